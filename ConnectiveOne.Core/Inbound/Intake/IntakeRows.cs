using System.Data.Common;
using System.Text;
using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Tickets;
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
/// </summary>
/// <remarks>Commands belong to the connection they were built on and run inside the caller's transaction.</remarks>
internal sealed class IntakeRows : IAsyncDisposable
{
    private readonly AppDbContext _db;
    private readonly Statement _insertTicket, _insertMessage, _insertRaw, _insertAttachment;
    private readonly Statement _ticketActivity, _ticketReopened, _messageHtml, _addressSeen, _addressForwarding;

    public IntakeRows(AppDbContext db)
    {
        _db = db;
        var connection = db.Database.GetDbConnection();
        var sql = db.GetService<ISqlGenerationHelper>();
        var model = db.Model;
        IEntityType Entity<T>() => model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not in the model.");
        _insertTicket = Statement.Insert(connection, sql, Entity<Ticket>());
        _insertMessage = Statement.Insert(connection, sql, Entity<TicketMessage>());
        _insertRaw = Statement.Insert(connection, sql, Entity<RawMessage>());
        _insertAttachment = Statement.Insert(connection, sql, Entity<MessageAttachment>());
        _ticketActivity = Statement.Update(connection, sql, Entity<Ticket>(), nameof(Ticket.MessageCount), nameof(Ticket.LastMessageAt));
        _ticketReopened = Statement.Update(connection, sql, Entity<Ticket>(), nameof(Ticket.MessageCount), nameof(Ticket.LastMessageAt), nameof(Ticket.Status));
        _messageHtml = Statement.Update(connection, sql, Entity<TicketMessage>(), nameof(TicketMessage.Html));
        _addressSeen = Statement.Update(connection, sql, Entity<CorporateAddress>(), nameof(CorporateAddress.LastReceivedAt));
        _addressForwarding = Statement.Update(connection, sql, Entity<CorporateAddress>(), nameof(CorporateAddress.LastReceivedAt),
            nameof(CorporateAddress.Forwarding), nameof(CorporateAddress.ForwardingDetail), nameof(CorporateAddress.ForwardingTestToken));
    }

    private DbTransaction Transaction => _db.Database.CurrentTransaction?.GetDbTransaction()
        ?? throw new InvalidOperationException("Intake rows are written inside the batch's transaction.");

    /// <summary>Inserts a new ticket and sets its <see cref="Ticket.Id"/>.</summary>
    public async Task InsertAsync(Ticket ticket) => ticket.Id = await _insertTicket.ExecuteAsync(ticket, Transaction);

    /// <summary>Inserts a message of an inserted ticket with its raw bytes and attachments, and sets their ids.</summary>
    public async Task InsertAsync(TicketMessage message)
    {
        var transaction = Transaction;
        message.TicketId = message.Ticket?.Id ?? message.TicketId;
        message.Id = await _insertMessage.ExecuteAsync(message, transaction);
        if (message.Raw is { } raw)
        {
            raw.MessageId = message.Id;
            await _insertRaw.ExecuteAsync(raw, transaction);
        }
        foreach (var attachment in message.Attachments)
        {
            attachment.MessageId = message.Id;
            attachment.Id = await _insertAttachment.ExecuteAsync(attachment, transaction);
        }
    }

    /// <summary>Writes a changed ticket's count and activity time, and its status when a reply reopened it.</summary>
    public Task UpdateAsync(Ticket ticket, bool reopened) => (reopened ? _ticketReopened : _ticketActivity).ExecuteAsync(ticket, Transaction);

    /// <summary>Writes the message's <see cref="TicketMessage.Html"/> (inline images resolved once attachment ids are known).</summary>
    public Task UpdateHtmlAsync(TicketMessage message) => _messageHtml.ExecuteAsync(message, Transaction);

    /// <summary>Writes when mail last arrived, and the forwarding status, detail and test token when they changed.</summary>
    public Task UpdateAsync(CorporateAddress address, bool forwardingChanged) =>
        (forwardingChanged ? _addressForwarding : _addressSeen).ExecuteAsync(address, Transaction);

    public async ValueTask DisposeAsync()
    {
        foreach (var statement in new[] { _insertTicket, _insertMessage, _insertRaw, _insertAttachment, _ticketActivity, _ticketReopened,
                     _messageHtml, _addressSeen, _addressForwarding })
            await statement.DisposeAsync();
    }

    /// <summary>One prepared statement: the command, and for each parameter the property whose value it carries.</summary>
    private sealed class Statement : IAsyncDisposable
    {
        private readonly DbCommand _command;
        private readonly Column[] _columns;
        private readonly bool _returnsKey;

        private readonly record struct Column(string Name, string ParameterName, IClrPropertyGetter Getter, RelationalTypeMapping Mapping, bool Nullable);

        private Statement(DbConnection connection, string text, Column[] columns, bool returnsKey)
        {
            _command = connection.CreateCommand();
            _command.CommandText = text;
            _columns = columns;
            _returnsKey = returnsKey;
        }

        /// <summary><c>INSERT INTO t (all stored columns but a generated key) VALUES (…) [RETURNING key]</c>.</summary>
        public static Statement Insert(DbConnection connection, ISqlGenerationHelper sql, IEntityType entity)
        {
            var key = SingleKey(entity);
            var generated = key.ValueGenerated.HasFlag(ValueGenerated.OnAdd) && key.ClrType == typeof(long);
            var properties = entity.GetProperties().Where(p => !(generated && p == key)).ToList();
            var columns = properties.Select((p, i) => ColumnOf(sql, p, i)).ToArray();
            var text = new StringBuilder("INSERT INTO ").Append(Table(sql, entity)).Append(" (")
                .AppendJoin(", ", properties.Select(p => sql.DelimitIdentifier(p.GetColumnName())))
                .Append(") VALUES (")
                .AppendJoin(", ", columns.Select(c => sql.GenerateParameterNamePlaceholder(c.Name)))
                .Append(')');
            if (generated)
                text.Append(" RETURNING ").Append(sql.DelimitIdentifier(key.GetColumnName()));
            return new Statement(connection, text.ToString(), columns, generated);
        }

        /// <summary><c>UPDATE t SET these columns WHERE key = …</c>.</summary>
        public static Statement Update(DbConnection connection, ISqlGenerationHelper sql, IEntityType entity, params string[] propertyNames)
        {
            var properties = propertyNames.Select(n => entity.FindProperty(n) ?? throw new InvalidOperationException($"{entity.DisplayName()}.{n} is not mapped."))
                .Append(SingleKey(entity)).ToList();
            var columns = properties.Select((p, i) => ColumnOf(sql, p, i)).ToArray();
            var text = new StringBuilder("UPDATE ").Append(Table(sql, entity)).Append(" SET ")
                .AppendJoin(", ", columns[..^1].Select((c, i) => $"{sql.DelimitIdentifier(properties[i].GetColumnName())} = {sql.GenerateParameterNamePlaceholder(c.Name)}"))
                .Append(" WHERE ").Append(sql.DelimitIdentifier(properties[^1].GetColumnName()))
                .Append(" = ").Append(sql.GenerateParameterNamePlaceholder(columns[^1].Name));
            return new Statement(connection, text.ToString(), columns, returnsKey: false);
        }

        /// <summary>Runs the statement for <paramref name="entity"/>; returns the generated key, or 0.</summary>
        public async Task<long> ExecuteAsync(object entity, DbTransaction transaction)
        {
            var none = CancellationToken.None; // a started batch finishes; its senders wait for the answer
            _command.Transaction = transaction;
            _command.Parameters.Clear();
            foreach (var column in _columns)
                _command.Parameters.Add(column.Mapping.CreateParameter(_command, column.ParameterName, column.Getter.GetClrValueUsingContainingEntity(entity), column.Nullable));
            if (_returnsKey)
                return Convert.ToInt64(await _command.ExecuteScalarAsync(none), System.Globalization.CultureInfo.InvariantCulture);
            if (await _command.ExecuteNonQueryAsync(none) != 1)
                throw new InvalidOperationException($"Expected to write one row: {_command.CommandText}");
            return 0;
        }

        public ValueTask DisposeAsync() => _command.DisposeAsync();

        private static IProperty SingleKey(IEntityType entity) =>
            entity.FindPrimaryKey()?.Properties is [var key] ? key : throw new InvalidOperationException($"{entity.DisplayName()} needs a single-column key.");

        private static string Table(ISqlGenerationHelper sql, IEntityType entity) =>
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
