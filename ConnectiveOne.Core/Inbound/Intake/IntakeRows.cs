using System.Collections.Concurrent;
using System.Data.Common;
using System.Reflection;
using System.Text;
using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Bots;
using ConnectiveOne.Core.Inbound.Bounces;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Tickets;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace ConnectiveOne.Core.Inbound.Intake;

/// <summary>
/// The intake writer's inserts and updates as commands built once from EF Core's model, instead of
/// <c>SaveChanges</c> (change detection, command batching and fix-up were ~0.5 ms per message).
/// Table and column names come from the model, identifiers and parameter placeholders from the provider's
/// <see cref="ISqlGenerationHelper"/>, and every value goes through its property's
/// <see cref="RelationalTypeMapping.CreateParameter"/>, which applies value converters (UTC ticks, enums as text)
/// and provider types (e.g. Guid as TEXT on SQLite, uuid on PostgreSQL), so the rows are exactly what EF would
/// write, on any relational provider. Generated keys come back through <c>RETURNING</c> (SQLite ≥ 3.35, PostgreSQL).
/// The bytes of a large message and of its attachments can come from spool files and are streamed into the row, never
/// held in memory whole: PostgreSQL reads a <see cref="Stream"/> parameter as it sends it; SQLite inserts a
/// <c>zeroblob</c> of the right size and writes the bytes into it through <see cref="SqliteBlob"/> (incremental blob I/O).
/// </summary>
/// <remarks>
/// Commands belong to the connection they were built on and run inside the caller's transaction. The writer's
/// per-batch lookups are read the same way (<see cref="SelectAsync"/>): EF's compiled queries with <c>IN</c> lists
/// over array parameters re-ran its SQL post-processing on every execution (~60–140 µs of CPU per query against
/// ~18 µs for a query with scalar parameters, measured in-process).
/// </remarks>
internal sealed class IntakeRows : IAsyncDisposable
{
    private readonly AppDbContext _db;
    private readonly DbConnection _connection;
    private readonly ISqlGenerationHelper _sql;
    private readonly Statement _insertTicket, _insertMessage, _insertRaw, _insertAttachment, _insertContent, _insertRawFromFile, _insertContentFromFile,
        _insertParticipant;
    private readonly Statement _ticketActivity, _ticketReopened, _messageHtml, _addressSeen, _addressForwarding;
    private readonly Statement _insertReport, _messageDelivery, _insertNotification, _insertEvent;

    public IntakeRows(AppDbContext db)
    {
        _db = db;
        var connection = _connection = db.Database.GetDbConnection();
        var sql = _sql = db.GetService<ISqlGenerationHelper>();
        var model = db.Model;
        IEntityType Entity<T>() => model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not in the model.");
        _insertTicket = Statement.Insert(connection, sql, Entity<Ticket>());
        _insertMessage = Statement.Insert(connection, sql, Entity<TicketMessage>());
        _insertRaw = Statement.Insert(connection, sql, Entity<RawMessage>());
        _insertAttachment = Statement.Insert(connection, sql, Entity<MessageAttachment>());
        _insertContent = Statement.Insert(connection, sql, Entity<AttachmentContent>(), ifMissing: true);
        _insertRawFromFile = Statement.Insert(connection, sql, Entity<RawMessage>(), streamed: nameof(RawMessage.Bytes));
        _insertContentFromFile = Statement.Insert(connection, sql, Entity<AttachmentContent>(), ifMissing: true, streamed: nameof(AttachmentContent.Bytes));
        // A participant already on the ticket (from an earlier batch or another node) keeps its row and role.
        _insertParticipant = Statement.Insert(connection, sql, Entity<TicketParticipant>(), ifMissing: true,
            conflictOn: [nameof(TicketParticipant.TicketId), nameof(TicketParticipant.Email)]);
        // The count is added to, not written: a reply or another node's mail may have counted since the batch read it.
        // The row's last message (time, preview, direction) is written; its attachment mark only ever turns on, in the
        // database, so a reply's mark that committed after the batch read the ticket stays.
        string[] lastMessage = [nameof(Ticket.LastMessageAt), nameof(Ticket.LastMessagePreview), nameof(Ticket.LastDirection)];
        _ticketActivity = Statement.Update(connection, sql, Entity<Ticket>(), lastMessage, addTo: nameof(Ticket.MessageCount),
            orInto: nameof(Ticket.HasAttachments));
        // A reply that reopens a ticket also ends its snooze (the column is written with the status).
        _ticketReopened = Statement.Update(connection, sql, Entity<Ticket>(), [.. lastMessage, nameof(Ticket.Status), nameof(Ticket.SnoozedUntil)],
            addTo: nameof(Ticket.MessageCount), orInto: nameof(Ticket.HasAttachments));
        _messageHtml = Statement.Update(connection, sql, Entity<TicketMessage>(), [nameof(TicketMessage.Html)]);
        _insertReport = Statement.Insert(connection, sql, Entity<DeliveryReport>());
        _insertNotification = Statement.Insert(connection, sql, Entity<Notifications.Notification>());
        _insertEvent = Statement.Insert(connection, sql, Entity<TicketEvent>());
        _messageDelivery = Statement.Update(connection, sql, Entity<TicketMessage>(),
            [nameof(TicketMessage.Delivery), nameof(TicketMessage.DeliveryDetail), nameof(TicketMessage.BouncedRecipient)]);
        _addressSeen = Statement.Update(connection, sql, Entity<CorporateAddress>(), [nameof(CorporateAddress.LastReceivedAt)]);
        _addressForwarding = Statement.Update(connection, sql, Entity<CorporateAddress>(), [nameof(CorporateAddress.LastReceivedAt),
            nameof(CorporateAddress.Forwarding), nameof(CorporateAddress.ForwardingDetail), nameof(CorporateAddress.ForwardingTestToken)]);
    }

    private DbTransaction Transaction => _db.Database.CurrentTransaction?.GetDbTransaction()
        ?? throw new InvalidOperationException("Intake rows are written inside the batch's transaction.");

    /// <summary>Inserts a new ticket and sets its <see cref="Ticket.Id"/>.</summary>
    public async Task InsertAsync(Ticket ticket) => ticket.Id = await _insertTicket.ExecuteAsync(ticket, Transaction);

    /// <summary>Inserts a message of an inserted ticket with its raw bytes (from <paramref name="rawFile"/> when given) and attachments, and sets their ids.</summary>
    public async Task InsertAsync(TicketMessage message, SpoolFile? rawFile = null)
    {
        var transaction = Transaction;
        message.TicketId = message.Ticket?.Id ?? message.TicketId;
        message.Id = await _insertMessage.ExecuteAsync(message, transaction);
        if (message.Raw is { } raw)
        {
            raw.MessageId = message.Id;
            if (rawFile is null)
                await _insertRaw.ExecuteAsync(raw, transaction);
            else
                await _insertRawFromFile.ExecuteAsync(raw, transaction, rawFile);
        }
        foreach (var attachment in message.Attachments)
        {
            attachment.MessageId = message.Id;
            attachment.Id = await _insertAttachment.ExecuteAsync(attachment, transaction);
        }
    }

    /// <summary>
    /// Inserts attachment content (its bytes from <paramref name="file"/> when given) unless a row with its SHA-256 is
    /// there already (stored earlier, or by another message).
    /// </summary>
    public Task InsertAsync(AttachmentContent content, SpoolFile? file = null) =>
        file is null ? _insertContent.ExecuteAsync(content, Transaction) : _insertContentFromFile.ExecuteAsync(content, Transaction, file);

    /// <summary>Adds a participant to a ticket unless that address is on it already.</summary>
    public Task InsertAsync(TicketParticipant participant) => _insertParticipant.ExecuteAsync(participant, Transaction);

    /// <summary>Adds <paramref name="added"/> messages to a changed ticket's count and writes its activity time, and its status when a reply reopened it.</summary>
    public Task UpdateAsync(Ticket ticket, bool reopened, int added) =>
        (reopened ? _ticketReopened : _ticketActivity).ExecuteAsync(ticket, Transaction, added);

    /// <summary>Writes the message's <see cref="TicketMessage.Html"/> (inline images resolved once attachment ids are known).</summary>
    public Task UpdateHtmlAsync(TicketMessage message) => _messageHtml.ExecuteAsync(message, Transaction);

    /// <summary>Inserts a delivery report about one of our sent messages and sets its <see cref="DeliveryReport.Id"/>.</summary>
    public async Task InsertAsync(DeliveryReport report) => report.Id = await _insertReport.ExecuteAsync(report, Transaction);

    /// <summary>Inserts a notification for a user and sets its id.</summary>
    public async Task InsertAsync(Notifications.Notification notification) =>
        notification.Id = await _insertNotification.ExecuteAsync(notification, Transaction);

    /// <summary>Inserts an event in a ticket's thread (a customer's answer ended its snooze) and sets its id.</summary>
    public async Task InsertAsync(TicketEvent ticketEvent) => ticketEvent.Id = await _insertEvent.ExecuteAsync(ticketEvent, Transaction);

    /// <summary>Writes a sent message's <see cref="TicketMessage.Delivery"/>, its detail and the bounced recipient (a bounce named it).</summary>
    public Task UpdateDeliveryAsync(TicketMessage message) => _messageDelivery.ExecuteAsync(message, Transaction);

    /// <summary>Writes when mail last arrived, and the forwarding status, detail and test token when they changed.</summary>
    public Task UpdateAsync(CorporateAddress address, bool forwardingChanged) =>
        (forwardingChanged ? _addressForwarding : _addressSeen).ExecuteAsync(address, Transaction);

    /// <summary>A condition of <see cref="SelectAsync"/>: the property's column is one of <see cref="Values"/>, or at least <see cref="Values"/>[0].</summary>
    public sealed record Where(string Property, IReadOnlyCollection<object> Values, bool AtLeast = false);

    /// <summary>
    /// <c>SELECT</c> these properties (all mapped ones when null) of <typeparamref name="T"/> rows matching every condition;
    /// each row comes back as CLR values (converters applied). Returns nothing when an <c>IN</c> list is empty.
    /// </summary>
    public async Task<List<object?[]>> SelectAsync<T>(string[]? properties, params Where[] where)
    {
        var entity = _db.Model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not in the model.");
        var read = properties is null ? entity.GetProperties().Where(p => !p.IsShadowProperty()).ToArray()
            : properties.Select(n => Property(entity, n)).ToArray();
        var rows = new List<object?[]>();
        if (where.Any(w => w.Values.Count == 0))
            return rows;
        await using var command = _connection.CreateCommand();
        command.Transaction = Transaction;
        var text = new StringBuilder("SELECT ").AppendJoin(", ", read.Select(p => _sql.DelimitIdentifier(p.GetColumnName())))
            .Append(" FROM ").Append(Statement.Table(_sql, entity)).Append(" WHERE ");
        for (var i = 0; i < where.Length; i++)
        {
            var property = Property(entity, where[i].Property);
            var mapping = property.GetRelationalTypeMapping();
            text.Append(i > 0 ? " AND " : "").Append(_sql.DelimitIdentifier(property.GetColumnName())).Append(where[i].AtLeast ? " >= " : " IN (");
            var first = true;
            foreach (var value in where[i].AtLeast ? where[i].Values.Take(1) : where[i].Values)
            {
                var name = $"w{command.Parameters.Count}";
                text.Append(first ? "" : ", ").Append(_sql.GenerateParameterNamePlaceholder(name));
                command.Parameters.Add(mapping.CreateParameter(command, _sql.GenerateParameterName(name), value, property.IsNullable));
                first = false;
            }
            text.Append(where[i].AtLeast ? "" : ")");
        }
        command.CommandText = text.ToString();
        PostgresTextInterceptor.CleanParameters(command);
        var none = CancellationToken.None;
        await using var reader = await command.ExecuteReaderAsync(none);
        while (await reader.ReadAsync(none))
        {
            var row = new object?[read.Length];
            for (var i = 0; i < read.Length; i++)
                row[i] = await reader.IsDBNullAsync(i, none) ? null : ReadValue(reader, i, read[i]);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>Whole <typeparamref name="T"/> entities (not tracked) matching every condition.</summary>
    public async Task<List<T>> LoadAsync<T>(params Where[] where) where T : class
    {
        var entity = _db.Model.FindEntityType(typeof(T))!;
        var properties = entity.GetProperties().Where(p => !p.IsShadowProperty()).ToArray();
        var loaded = new List<T>();
        foreach (var row in await SelectAsync<T>(null, where))
        {
            var item = Activator.CreateInstance<T>();
            for (var i = 0; i < properties.Length; i++)
                properties[i].PropertyInfo!.SetValue(item, row[i]);
            loaded.Add(item);
        }
        return loaded;
    }

    /// <summary>Addresses by id, with the bot that serves each (if any).</summary>
    public async Task<List<(CorporateAddress Address, Guid? BotId)>> AddressesWithBotsAsync(IReadOnlyCollection<Guid> ids)
    {
        var boxed = ids.Cast<object>().ToList();
        var addresses = await LoadAsync<CorporateAddress>(new Where(nameof(CorporateAddress.Id), boxed));
        var bots = (await SelectAsync<Bot>([nameof(Bot.EmailAddressId), nameof(Bot.Id)], new Where(nameof(Bot.EmailAddressId), boxed)))
            .ToDictionary(r => (Guid)r[0]!, r => (Guid)r[1]!);
        return addresses.Select(a => (a, bots.TryGetValue(a.Id, out var bot) ? bot : (Guid?)null)).ToList();
    }

    private static IProperty Property(IEntityType entity, string name) =>
        entity.FindProperty(name) ?? throw new InvalidOperationException($"{entity.DisplayName()}.{name} is not mapped.");

    // The provider's value read as the type the mapping stores (e.g. long ticks, enum text), then converted back.
    private static object? ReadValue(DbDataReader reader, int ordinal, IProperty property)
    {
        var mapping = property.GetRelationalTypeMapping();
        var stored = mapping.Converter?.ProviderClrType ?? mapping.ClrType;
        stored = Nullable.GetUnderlyingType(stored) ?? stored;
        var raw = stored.IsEnum
            ? Enum.ToObject(stored, Readers.GetOrAdd(Enum.GetUnderlyingType(stored), ReaderFor)(reader, ordinal))
            : Readers.GetOrAdd(stored, ReaderFor)(reader, ordinal);
        return mapping.Converter is { } converter ? converter.ConvertFromProvider(raw) : raw;
    }

    private static readonly ConcurrentDictionary<Type, Func<DbDataReader, int, object>> Readers = new();

    private static Func<DbDataReader, int, object> ReaderFor(Type type) =>
        typeof(IntakeRows).GetMethod(nameof(ReadAs), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type)
            .CreateDelegate<Func<DbDataReader, int, object>>();

    private static object ReadAs<TValue>(DbDataReader reader, int ordinal) => reader.GetFieldValue<TValue>(ordinal)!;

    public async ValueTask DisposeAsync()
    {
        foreach (var statement in new[] { _insertTicket, _insertMessage, _insertRaw, _insertAttachment, _insertContent, _insertRawFromFile,
                     _insertContentFromFile, _insertParticipant, _ticketActivity, _ticketReopened,
                     _messageHtml, _addressSeen, _addressForwarding, _insertReport, _messageDelivery, _insertNotification, _insertEvent })
            await statement.DisposeAsync();
    }

    /// <summary>One prepared statement: the command, and for each parameter the property whose value it carries.</summary>
    private sealed class Statement : IAsyncDisposable
    {
        private readonly DbCommand _command;
        private readonly Column[] _columns;
        private readonly Column? _addend;
        private readonly bool _returnsKey;
        private readonly bool _mayWriteNothing;
        private readonly Streamed? _streamed;

        /// <summary>The column whose value comes from a file: its index in the parameters, and (SQLite) where its blob is.</summary>
        private sealed record Streamed(int Index, string Table, string Column, bool Sqlite);

        private readonly record struct Column(string Name, string ParameterName, IClrPropertyGetter Getter, RelationalTypeMapping Mapping, bool Nullable);

        private Statement(DbConnection connection, string text, Column[] columns, bool returnsKey, bool mayWriteNothing = false, Column? addend = null,
            Streamed? streamed = null)
        {
            _command = connection.CreateCommand();
            _command.CommandText = text;
            _columns = columns;
            _returnsKey = returnsKey;
            _mayWriteNothing = mayWriteNothing;
            _addend = addend;
            _streamed = streamed;
        }

        /// <summary>
        /// <c>INSERT INTO t (all stored columns but a generated key) VALUES (…) [RETURNING key]</c>; with
        /// <paramref name="ifMissing"/>, <c>ON CONFLICT (key) DO NOTHING</c> (SQLite ≥ 3.24, PostgreSQL ≥ 9.5) for rows keyed by their content,
        /// or <c>ON CONFLICT (<paramref name="conflictOn"/>)</c> for rows unique on those properties (a unique index must cover exactly them).
        /// With <paramref name="streamed"/> (a byte[] property of an entity without a generated key), that column's value is
        /// read from a file given to <see cref="ExecuteAsync(object, DbTransaction, SpoolFile)"/>; on SQLite it is inserted as
        /// <c>zeroblob(length)</c> and the statement returns the row's <c>rowid</c> to write the bytes into.
        /// </summary>
        public static Statement Insert(DbConnection connection, ISqlGenerationHelper sql, IEntityType entity, bool ifMissing = false,
            string[]? conflictOn = null, string? streamed = null)
        {
            var key = SingleKey(entity);
            var generated = key.ValueGenerated.HasFlag(ValueGenerated.OnAdd) && key.ClrType == typeof(long);
            var properties = entity.GetProperties().Where(p => !(generated && p == key)).ToList();
            var columns = properties.Select((p, i) => ColumnOf(sql, p, i)).ToArray();
            Streamed? fromFile = null;
            if (streamed is not null)
            {
                if (generated)
                    throw new InvalidOperationException($"{entity.DisplayName()}: a streamed insert does not return a generated key.");
                var column = Property(entity, streamed);
                fromFile = new Streamed(properties.IndexOf(column), entity.GetTableName()!, column.GetColumnName(), connection is SqliteConnection);
            }
            var text = new StringBuilder("INSERT INTO ").Append(Table(sql, entity)).Append(" (")
                .AppendJoin(", ", properties.Select(p => sql.DelimitIdentifier(p.GetColumnName())))
                .Append(") VALUES (")
                .AppendJoin(", ", columns.Select((c, i) => fromFile is { Sqlite: true } f && f.Index == i
                    ? $"zeroblob({sql.GenerateParameterNamePlaceholder(c.Name)})"
                    : sql.GenerateParameterNamePlaceholder(c.Name)))
                .Append(')');
            if (ifMissing)
            {
                var unique = conflictOn?.Select(n => entity.FindProperty(n) ?? throw new InvalidOperationException($"{entity.DisplayName()}.{n} is not mapped."))
                    ?? [key];
                text.Append(" ON CONFLICT (").AppendJoin(", ", unique.Select(p => sql.DelimitIdentifier(p.GetColumnName()))).Append(") DO NOTHING");
            }
            else if (generated)
                text.Append(" RETURNING ").Append(sql.DelimitIdentifier(key.GetColumnName()));
            if (fromFile is { Sqlite: true })
                text.Append(" RETURNING rowid");
            return new Statement(connection, text.ToString(), columns, generated && !ifMissing, ifMissing, streamed: fromFile);
        }

        /// <summary>
        /// <c>UPDATE t SET these columns[, orInto = orInto OR @b][, addTo = addTo + @n] WHERE key = …</c>: <paramref name="addTo"/> is added to
        /// in the database (the amount given to <see cref="ExecuteAsync(object, DbTransaction, int)"/>), so concurrent writers' additions all count.
        /// </summary>
        public static Statement Update(DbConnection connection, ISqlGenerationHelper sql, IEntityType entity, string[] propertyNames, string? addTo = null,
            string? orInto = null)
        {
            IProperty Property(string name) => entity.FindProperty(name) ?? throw new InvalidOperationException($"{entity.DisplayName()}.{name} is not mapped.");
            var ored = orInto is null ? null : Property(orInto);
            var properties = propertyNames.Select(Property).Concat(ored is null ? [] : [ored]).Append(SingleKey(entity)).ToList();
            var columns = properties.Select((p, i) => ColumnOf(sql, p, i)).ToArray();
            // orInto (a bool) is OR-ed with its stored value: a flag that only ever turns on.
            var assignments = columns[..^1].Select((c, i) => properties[i] == ored
                ? $"{sql.DelimitIdentifier(properties[i].GetColumnName())} = {sql.DelimitIdentifier(properties[i].GetColumnName())} OR {sql.GenerateParameterNamePlaceholder(c.Name)}"
                : $"{sql.DelimitIdentifier(properties[i].GetColumnName())} = {sql.GenerateParameterNamePlaceholder(c.Name)}").ToList();
            Column? addend = null;
            if (addTo is not null)
            {
                var counter = Property(addTo);
                addend = ColumnOf(sql, counter, columns.Length);
                var name = sql.DelimitIdentifier(counter.GetColumnName());
                assignments.Add($"{name} = {name} + {sql.GenerateParameterNamePlaceholder(addend.Value.Name)}");
            }
            var text = new StringBuilder("UPDATE ").Append(Table(sql, entity)).Append(" SET ").AppendJoin(", ", assignments)
                .Append(" WHERE ").Append(sql.DelimitIdentifier(properties[^1].GetColumnName()))
                .Append(" = ").Append(sql.GenerateParameterNamePlaceholder(columns[^1].Name));
            return new Statement(connection, text.ToString(), columns, returnsKey: false, addend: addend);
        }

        /// <summary>Runs a streamed insert for <paramref name="entity"/>, its streamed column's bytes read from <paramref name="content"/>.</summary>
        public async Task ExecuteAsync(object entity, DbTransaction transaction, SpoolFile content)
        {
            var streamed = _streamed ?? throw new InvalidOperationException($"Not a streamed insert: {_command.CommandText}");
            var none = CancellationToken.None;
            _command.Transaction = transaction;
            _command.Parameters.Clear();
            for (var i = 0; i < _columns.Length; i++)
            {
                var column = _columns[i];
                if (i != streamed.Index)
                {
                    _command.Parameters.Add(column.Mapping.CreateParameter(_command, column.ParameterName,
                        column.Getter.GetClrValueUsingContainingEntity(entity), column.Nullable));
                    continue;
                }
                if (streamed.Sqlite)
                {
                    var length = _command.CreateParameter(); // the argument of zeroblob()
                    length.ParameterName = column.ParameterName;
                    length.Value = content.Length;
                    _command.Parameters.Add(length);
                }
                else
                {
                    _command.Parameters.Add(column.Mapping.CreateParameter(_command, column.ParameterName, content.Rewound(), column.Nullable));
                }
            }
            PostgresTextInterceptor.CleanParameters(_command);
            if (!streamed.Sqlite)
            {
                if (await _command.ExecuteNonQueryAsync(none) is var written && written != 1 && !(_mayWriteNothing && written == 0))
                    throw new InvalidOperationException($"Expected to write one row: {_command.CommandText}");
                return;
            }
            if (await _command.ExecuteScalarAsync(none) is not { } rowid || rowid is DBNull)
            {
                if (_mayWriteNothing)
                    return; // the row was there already
                throw new InvalidOperationException($"Expected to write one row: {_command.CommandText}");
            }
            await using var blob = new SqliteBlob((SqliteConnection)_command.Connection!, streamed.Table, streamed.Column,
                Convert.ToInt64(rowid, System.Globalization.CultureInfo.InvariantCulture));
            await content.Rewound().CopyToAsync(blob, none);
        }

        /// <summary>Runs the statement for <paramref name="entity"/> (adding <paramref name="amount"/> where it adds); returns the generated key, or 0.</summary>
        public async Task<long> ExecuteAsync(object entity, DbTransaction transaction, int amount = 0)
        {
            var none = CancellationToken.None; // a started batch finishes; its senders wait for the answer
            _command.Transaction = transaction;
            _command.Parameters.Clear();
            foreach (var column in _columns)
                _command.Parameters.Add(column.Mapping.CreateParameter(_command, column.ParameterName, column.Getter.GetClrValueUsingContainingEntity(entity), column.Nullable));
            if (_addend is { } addend)
                _command.Parameters.Add(addend.Mapping.CreateParameter(_command, addend.ParameterName, amount, nullable: false));
            PostgresTextInterceptor.CleanParameters(_command);
            if (_returnsKey)
                return Convert.ToInt64(await _command.ExecuteScalarAsync(none), System.Globalization.CultureInfo.InvariantCulture);
            if (await _command.ExecuteNonQueryAsync(none) is var written && written != 1 && !(_mayWriteNothing && written == 0))
                throw new InvalidOperationException($"Expected to write one row: {_command.CommandText}");
            return 0;
        }

        public ValueTask DisposeAsync() => _command.DisposeAsync();

        private static IProperty SingleKey(IEntityType entity) =>
            entity.FindPrimaryKey()?.Properties is [var key] ? key : throw new InvalidOperationException($"{entity.DisplayName()} needs a single-column key.");

        public static string Table(ISqlGenerationHelper sql, IEntityType entity) =>
            sql.DelimitIdentifier(entity.GetTableName() ?? throw new InvalidOperationException($"{entity.DisplayName()} is not mapped to a table."), entity.GetSchema());

        private static Column ColumnOf(ISqlGenerationHelper sql, IProperty property, int index)
        {
            if (property.IsShadowProperty())
                throw new InvalidOperationException($"{property.DeclaringType.DisplayName()}.{property.Name} is a shadow property; intake rows write CLR values only.");
            var name = $"p{index}";
            return new Column(name, sql.GenerateParameterName(name), property.GetGetter(), property.GetRelationalTypeMapping(), property.IsNullable);
        }
    }
}
