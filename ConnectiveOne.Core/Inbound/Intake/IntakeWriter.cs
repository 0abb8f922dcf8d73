using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Threading;
using ConnectiveOne.Core.Tickets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Core.Inbound.Intake;

/// <summary>
/// The one writer of inbound mail (group commit). Callers queue prepared messages; this service drains
/// whatever is waiting, threads and inserts it all in ONE transaction, commits (one fsync for the batch, with
/// <c>synchronous=FULL</c>), and only then completes each caller's task, so an SMTP session answers 250 only
/// once its own message is durable. Being the only writer also makes duplicate checks and threading exact: what
/// threading needs from the database is fetched once per batch (<see cref="BatchThreadPrefetch"/>), and what the
/// batch adds is seen through <see cref="IntakeBatch"/>. Rows are written with commands built from EF's model
/// (<see cref="IntakeRows"/>), not <c>SaveChanges</c>; attachment content goes into the same transaction, once per SHA-256.
/// A failing batch is retried message by message, so one bad message cannot fail the others.
/// </summary>
public sealed class IntakeWriter(IServiceScopeFactory scopes, ChangeNotifier notifier, TimeProvider clock,
    IOptions<ConnectiveOneOptions> options, ILogger<IntakeWriter> logger) : BackgroundService
{
    private readonly int _maxMessagesPerTicket = options.Value.Tickets.MaxMessagesPerTicket;

    private const int MaxBatch = 256;

    private readonly Channel<Pending> _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(4096)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    // Change events leave the writer through their own queue and loop: subscribers (open pages, the live hub) run
    // synchronously in ChangeNotifier, and a slow one must not hold up the next group commit. If they fall more
    // than this many batches behind, the oldest notifications are dropped (pages still show the data on reload).
    private readonly Channel<List<ChangeEvent>> _events = Channel.CreateBounded<List<ChangeEvent>>(new BoundedChannelOptions(1024)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.DropOldest,
    });

    private sealed record Pending(PreparedMessage Message, IReadOnlyList<Guid> AddressIds, TaskCompletionSource<IntakeResult> Done)
    {
        public long QueuedAt { get; } = Stopwatch.GetTimestamp();
    }

    /// <summary>Queues a message for its addresses and completes once it is committed (or fails with the reason).</summary>
    public async Task<IntakeResult> SubmitAsync(PreparedMessage message, IReadOnlyList<Guid> addressIds, CancellationToken cancellationToken)
    {
        var pending = new Pending(message, addressIds, new TaskCompletionSource<IntakeResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        await _queue.Writer.WriteAsync(pending, cancellationToken);
        return await pending.Done.Task.WaitAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var publishing = Task.Run(PublishLoopAsync, CancellationToken.None);
        var batch = new List<Pending>(MaxBatch);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                batch.Clear();
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item))
                    batch.Add(item);
                await WriteBatchAsync(batch);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: nothing still queued was committed, so its senders must hear "try again later".
        }
        _queue.Writer.TryComplete();
        while (_queue.Reader.TryRead(out var left))
            left.Done.TrySetException(new OperationCanceledException("The server is stopping."));
        await DropContextAsync();
        _events.Writer.TryComplete();
        await publishing;
    }

    private async Task PublishLoopAsync()
    {
        await foreach (var events in _events.Reader.ReadAllAsync())
        {
            foreach (var change in events)
                notifier.Publish(change);
        }
    }

    private async Task WriteBatchAsync(List<Pending> batch)
    {
        try
        {
            var (results, events) = await WriteAsync(batch);
            for (var i = 0; i < batch.Count; i++)
                batch[i].Done.TrySetResult(results[i]);
            Publish(events);
            return;
        }
        catch (Exception ex) when (batch.Count > 1)
        {
            logger.LogWarning(ex, "A batch of {Count} inbound messages failed; retrying them one by one", batch.Count);
        }
        catch (Exception ex)
        {
            Fail(batch[0], ex);
            return;
        }

        foreach (var item in batch)
        {
            try
            {
                var (results, events) = await WriteAsync([item]);
                item.Done.TrySetResult(results[0]);
                Publish(events);
            }
            catch (Exception ex)
            {
                Fail(item, ex);
            }
        }
    }

    private void Fail(Pending item, Exception ex)
    {
        logger.LogError(ex, "Inbound message {DedupKey} could not be stored", item.Message.DedupKey);
        item.Done.TrySetException(ex);
    }

    private void Publish(List<ChangeEvent> events)
    {
        if (events.Count > 0)
            _events.Writer.TryWrite(events);
    }

    // The batch finishes even while the app stops: its senders are waiting for the answer.
    private async Task<(List<IntakeResult> Results, List<ChangeEvent> Events)> WriteAsync(IReadOnlyList<Pending> batch)
    {
        var none = CancellationToken.None;
        var started = Stopwatch.GetTimestamp();
        BatchState state;
        var outcomes = new List<List<Outcome>>(batch.Count);
        try
        {
            var (db, rows) = await ContextAsync();
            await using var transaction = await db.Database.BeginTransactionAsync(none);

            var addressIds = batch.SelectMany(p => p.AddressIds).Distinct().ToList();
            var addresses = new Dictionary<Guid, AddressState>(addressIds.Count);
            foreach (var (address, botId) in await rows.AddressesWithBotsAsync(addressIds))
                addresses[address.Id] = new AddressState(address, botId);
            var stored = await FindStoredAsync(rows, batch, addressIds);
            var now = clock.GetUtcNow();
            var facts = batch.Select(p => p.Message.Mime is { } mime ? IncomingMessageFacts.From(mime, now) : null).ToList();
            var deliveries = new List<(Guid, IncomingMessageFacts)>();
            for (var i = 0; i < batch.Count; i++)
            {
                if (facts[i] is { } f)
                    deliveries.AddRange(batch[i].AddressIds.Where(addresses.ContainsKey).Select(id => (id, f)));
            }
            var prefetch = await BatchThreadPrefetch.LoadAsync(rows, ThreadOptions, deliveries);
            var looked = Stopwatch.GetTimestamp();
            state = new BatchState(db, rows, new IntakeBatch(), prefetch, addresses, stored, [], now);
            for (var i = 0; i < batch.Count; i++)
            {
                var deliveriesOfItem = new List<Outcome>(batch[i].AddressIds.Count);
                foreach (var addressId in batch[i].AddressIds)
                    deliveriesOfItem.Add(await WriteOneAsync(batch[i].Message, facts[i], addressId, state));
                outcomes.Add(deliveriesOfItem);
            }
            var built = Stopwatch.GetTimestamp();
            foreach (var (ticket, reopened, added) in state.Batch.Changed)
                await rows.UpdateAsync(ticket, reopened, added);
            foreach (var address in addresses.Values.Where(a => a.Seen))
                await rows.UpdateAsync(address.Address, address.ForwardingChanged);
            var written = Stopwatch.GetTimestamp();
            await transaction.CommitAsync(none);
            LogTimings(batch, started, looked, built, written, state.InsertTicks);
        }
        catch
        {
            await DropContextAsync(); // whatever it left open goes with it
            throw;
        }

        var results = new List<IntakeResult>(batch.Count);
        foreach (var deliveriesOfItem in outcomes)
            results.Add(new IntakeResult(deliveriesOfItem.Select(o => Report(o, state.Events)).ToList()));
        return (results, state.Events);
    }

    // The writer keeps one context and one open connection (pragmas set once) instead of a scope per batch, and
    // its insert/update commands (IntakeRows) built on that connection; it tracks nothing (its queries are untracked),
    // and the whole context is dropped after a failure.
    private (AsyncServiceScope Scope, AppDbContext Db, IntakeRows Rows)? _context;

    private async Task<(AppDbContext Db, IntakeRows Rows)> ContextAsync()
    {
        if (_context is { Db: var existing, Rows: var rows })
            return (existing, rows);
        var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await db.Database.OpenConnectionAsync(CancellationToken.None);
        _context = (scope, db, new IntakeRows(db));
        return (db, _context.Value.Rows);
    }

    private async Task DropContextAsync()
    {
        if (_context is not { Scope: var scope, Rows: var rows })
            return;
        _context = null;
        await rows.DisposeAsync();
        await scope.DisposeAsync();
    }

    // Where the time goes, per batch (Debug): preparing on the session threads, waiting in the queue, the
    // lookups and inserts inside the transaction (attachment content included), and the commit (the one fsync).
    private void LogTimings(IReadOnlyList<Pending> batch, long started, long looked, long built, long written, long insertTicks)
    {
        if (!logger.IsEnabled(LogLevel.Debug))
            return;
        double prepare = 0, wait = 0;
        foreach (var item in batch)
        {
            prepare += item.Message.PrepareTime.TotalMilliseconds;
            wait += Stopwatch.GetElapsedTime(item.QueuedAt, started).TotalMilliseconds;
        }
        // "save" is every insert and update (made while threading, plus the ticket and address updates at the end).
        var insert = Stopwatch.GetElapsedTime(0, insertTicks);
        logger.LogDebug("Intake batch of {Count}: prepare {PrepareMs:F2} ms/msg, queued {WaitMs:F2} ms/msg, write {WriteMs:F2} ms "
            + "(open+dedup {OpenMs:F2}, threading {ThreadingMs:F2}, save {SaveMs:F2}), commit {CommitMs:F2} ms",
            batch.Count, prepare / batch.Count, wait / batch.Count, Stopwatch.GetElapsedTime(started, written).TotalMilliseconds,
            Stopwatch.GetElapsedTime(started, looked).TotalMilliseconds, (Stopwatch.GetElapsedTime(looked, built) - insert).TotalMilliseconds,
            (Stopwatch.GetElapsedTime(built, written) + insert).TotalMilliseconds, Stopwatch.GetElapsedTime(written).TotalMilliseconds);
    }

    // Rules 1 and 3 name a ticket the prefetch did not load (rare): compiled once, untracked.
    private static readonly Func<AppDbContext, long, Task<Ticket?>> TicketById = EF.CompileAsyncQuery(
        (AppDbContext db, long id) => db.Tickets.AsNoTracking().FirstOrDefault(t => t.Id == id));

    private static readonly ThreadResolverOptions ThreadOptions = new();


    /// <summary>An address of the batch: whether mail was delivered to it, and whether its forwarding fields changed.</summary>
    private sealed class AddressState(CorporateAddress address, Guid? botId)
    {
        private readonly (ForwardingStatus, string?, string?) _loaded = (address.Forwarding, address.ForwardingDetail, address.ForwardingTestToken);
        public CorporateAddress Address => address;
        public Guid? BotId => botId;
        public bool Seen { get; set; }
        public bool ForwardingChanged => _loaded != (address.Forwarding, address.ForwardingDetail, address.ForwardingTestToken);
    }

    private sealed record BatchState(AppDbContext Db, IntakeRows Rows, IntakeBatch Batch, BatchThreadPrefetch Prefetch,
        Dictionary<Guid, AddressState> Addresses, Dictionary<(Guid, string), (long MessageId, long TicketId)> Stored,
        List<ChangeEvent> Events, DateTimeOffset Now)
    {
        /// <summary>The SHA-256s whose content this batch has written (or found stored) already.</summary>
        public HashSet<string> Contents { get; } = new(StringComparer.Ordinal);

        /// <summary>Stopwatch ticks spent in inserts while threading (for the Debug breakdown).</summary>
        public long InsertTicks { get; set; }
    }

    /// <summary>A delivery decided in the batch; ids are read once the batch is saved.</summary>
    private sealed record Outcome(Guid AddressId, IntakeOutcome Kind, TicketMessage? Message = null, (long MessageId, long TicketId)? Earlier = null,
        bool Created = false, bool Reopened = false, ThreadRule Rule = ThreadRule.NewTicket);

    private IntakeDelivery Report(Outcome o, List<ChangeEvent> events)
    {
        if (o.Kind == IntakeOutcome.Duplicate && o.Earlier is { } earlier)
            return new IntakeDelivery(o.AddressId, o.Kind, earlier.TicketId, earlier.MessageId);
        if (o.Message is not { Ticket: { } ticket } message)
            return new IntakeDelivery(o.AddressId, o.Kind, null, null);
        if (o.Kind == IntakeOutcome.Duplicate)
            return new IntakeDelivery(o.AddressId, o.Kind, ticket.Id, message.Id);
        logger.LogInformation("Inbound message {MessageId} stored in ticket {TicketId} ({Rule}{Created}); flags {Flags}",
            message.Id, ticket.Id, o.Rule, o.Created ? ", new ticket" : "", message.Flags);
        var id = ticket.Id.ToString(CultureInfo.InvariantCulture);
        if (o.Created)
            events.Add(new ChangeEvent(ChangeKind.TicketCreated, id, ticket.Subject));
        events.Add(new ChangeEvent(ChangeKind.MessageAdded, id, $"Message {message.Id}") { MessageId = message.Id });
        if (!o.Created)
            events.Add(new ChangeEvent(ChangeKind.TicketUpdated, id, o.Reopened ? "Reopened by a reply" : null));
        return new IntakeDelivery(o.AddressId, o.Kind, ticket.Id, message.Id);
    }

    // One query for the whole batch: which (address, dedup key) pairs are stored already.
    private static async Task<Dictionary<(Guid, string), (long MessageId, long TicketId)>> FindStoredAsync(IntakeRows rows,
        IReadOnlyList<Pending> batch, List<Guid> addressIds)
    {
        var keys = batch.Select(p => p.Message.DedupKey).Distinct().Cast<object>().ToList();
        var stored = new Dictionary<(Guid, string), (long MessageId, long TicketId)>();
        var found = await rows.SelectAsync<TicketMessage>(
            [nameof(TicketMessage.AddressId), nameof(TicketMessage.DedupKey), nameof(TicketMessage.Id), nameof(TicketMessage.TicketId)],
            new(nameof(TicketMessage.AddressId), addressIds.Cast<object>().ToList()), new(nameof(TicketMessage.DedupKey), keys));
        foreach (var row in found)
            stored[((Guid)row[0]!, (string)row[1]!)] = ((long)row[2]!, (long)row[3]!);
        return stored;
    }

    // Inline images point at attachment ids, known only after the insert.
    private static bool ResolveInlinePlaceholders(TicketMessage message)
    {
        if (message.Html is not { } html || !html.Contains("__c1inline", StringComparison.Ordinal))
            return false;
        var sb = new StringBuilder(html);
        for (var i = 0; i < message.Attachments.Count; i++)
            sb.Replace(PreparedMessage.InlinePlaceholder(i), message.Attachments[i].Id.ToString(CultureInfo.InvariantCulture));
        message.Html = sb.ToString();
        return true;
    }

    private async Task<Outcome> WriteOneAsync(PreparedMessage m, IncomingMessageFacts? facts, Guid addressId, BatchState state)
    {
        var now = state.Now;
        if (!state.Addresses.TryGetValue(addressId, out var addressState))
            return new Outcome(addressId, IntakeOutcome.AddressGone);
        var address = addressState.Address;

        if (IsForwardingTest(m, address))
        {
            address.Forwarding = ForwardingStatus.Confirmed;
            address.ForwardingDetail = $"The test mail sent to {address.Email} came back through the redirect.";
            address.ForwardingTestToken = null;
            address.LastReceivedAt = now;
            addressState.Seen = true;
            state.Events.Add(new ChangeEvent(ChangeKind.ForwardingStatusChanged, address.Id.ToString(), "Forwarding confirmed"));
            logger.LogInformation("Forwarding test mail arrived for address {AddressId}; forwarding confirmed", address.Id);
            return new Outcome(addressId, IntakeOutcome.ForwardingTestConfirmed);
        }

        if (state.Stored.TryGetValue((addressId, m.DedupKey), out var earlier))
            return new Outcome(addressId, IntakeOutcome.Duplicate, Earlier: earlier);
        if (state.Batch.FindDuplicate(addressId, m.DedupKey) is { } sameBatch)
            return new Outcome(addressId, IntakeOutcome.Duplicate, sameBatch);

        var flags = m.Flags;
        var previousStatus = address.Forwarding;
        address.LastReceivedAt = now;
        addressState.Seen = true;
        if (m.Mime is { } mime && ForwardedAsDetector.Detect(mime, address.Email) is { } reason)
        {
            flags |= MessageFlags.ForwardedAs;
            address.Forwarding = ForwardingStatus.ForwardedNotRedirected;
            address.ForwardingDetail = reason;
        }
        else if (address.Forwarding == ForwardingStatus.Waiting)
        {
            address.Forwarding = ForwardingStatus.Receiving;
            address.ForwardingDetail = null;
        }
        if (address.Forwarding != previousStatus)
            state.Events.Add(new ChangeEvent(ChangeKind.ForwardingStatusChanged, address.Id.ToString(), address.Forwarding.ToString()));

        var decision = await ResolveThreadAsync(state, m, facts, addressId);
        Ticket ticket;
        var created = false;
        var reopened = false;
        long? continues = null;
        var chosen = decision.TicketId is { } ticketKey ? await FindTicketAsync(state, ticketKey) : null;
        if (chosen is { } threaded)
            (chosen, continues) = await ApplyCapAsync(state, threaded);
        if (chosen is { } found)
        {
            ticket = found;
            // The count is not bumped here: the batch counts what it adds (Touch) and the update adds that in the database.
            if (now > ticket.LastMessageAt)
                ticket.LastMessageAt = now;
            if (ticket.Status == TicketStatus.Resolved && !m.IsAutomatic)
            {
                ticket.Status = TicketStatus.Open;
                reopened = true;
            }
            state.Batch.Touch(ticket, reopened);
        }
        else
        {
            created = true;
            ticket = new Ticket
            {
                Subject = m.Subject.Length > 0 ? m.Subject : "(no subject)",
                SubjectKey = decision.Subject.MatchKey,
                AddressId = addressId,
                BotId = addressState.BotId,
                CustomerEmail = m.FromAddress,
                CustomerName = m.FromName,
                ThreadToken = MessageIdFormat.NewThreadToken(),
                CreatedAt = now,
                LastMessageAt = now,
                MessageCount = 1,
                ContinuesTicketId = continues,
            };
            await TimedInsertAsync(state, () => state.Rows.InsertAsync(ticket));
            state.Batch.AddTicket(ticket);
            if (continues is { } full)
                logger.LogInformation("Ticket {FullTicketId} holds {Max} messages; ticket {TicketId} continues it", full,
                    _maxMessagesPerTicket, ticket.Id);
        }

        var attachments = new List<MessageAttachment>(m.Attachments.Count);
        foreach (var a in m.Attachments)
        {
            attachments.Add(new MessageAttachment
            {
                FileName = a.FileName,
                ContentType = a.ContentType,
                Size = a.Size,
                Sha256 = a.Sha256,
                ContentId = a.ContentId,
                IsInline = a.IsInline,
            });
        }
        var message = new TicketMessage
        {
            Ticket = ticket,
            AddressId = addressId,
            Direction = MessageDirection.Inbound,
            MessageIdHeader = m.MessageId,
            DedupKey = m.DedupKey,
            FromAddress = m.FromAddress,
            FromName = m.FromName,
            To = m.To,
            Cc = m.Cc,
            Subject = m.Subject,
            InReplyTo = m.InReplyTo,
            References = m.References,
            Date = m.Date,
            ReceivedAt = now,
            Text = m.Text,
            Html = m.Html,
            HasRemoteImages = m.HasRemoteImages,
            Flags = flags,
            ParseError = m.ParseError,
            RawSize = m.Raw.LongLength,
            Raw = new RawMessage { Bytes = m.Raw },
            Attachments = attachments,
        };
        await TimedInsertAsync(state, async () =>
        {
            // Content before the rows that refer to it; only stored messages bring theirs (duplicates do not).
            foreach (var a in m.Attachments)
            {
                if (state.Contents.Add(a.Sha256))
                    await state.Rows.InsertAsync(new AttachmentContent { Sha256 = a.Sha256, Bytes = a.Content });
            }
            await state.Rows.InsertAsync(message);
            if (ResolveInlinePlaceholders(message))
                await state.Rows.UpdateHtmlAsync(message);
        });
        state.Batch.AddMessage(message);
        return new Outcome(addressId, IntakeOutcome.Stored, message, Created: created, Reopened: reopened, Rule: decision.Rule);
    }

    private static async Task<ThreadDecision> ResolveThreadAsync(BatchState state, PreparedMessage m, IncomingMessageFacts? facts, Guid addressId)
    {
        // Unreadable mail gets its own ticket: its "subject" and sender say nothing about a conversation.
        if (facts is null)
            return new ThreadDecision(ThreadRule.NewTicket, null, null, m.ParseError, SubjectNormalizer.Normalize(m.Subject));
        var database = state.Prefetch.ForAddress(addressId, new TicketThreadLookup(state.Db, addressId));
        var resolver = new ThreadResolver(new IntakeBatchThreadLookup(database, state.Batch, addressId), ThreadOptions);
        return await resolver.ResolveAsync(facts, CancellationToken.None);
    }

    /// <summary>
    /// The cap (<see cref="TicketCapacity"/>): the chosen ticket, the continuation with room, or (null) a new ticket that
    /// continues the returned one. Only a full ticket costs a query: which ticket continues it.
    /// </summary>
    private async Task<(Ticket? Ticket, long? Continues)> ApplyCapAsync(BatchState state, Ticket chosen)
    {
        var placement = await TicketCapacity.PlaceAsync(Fill(state, chosen), _maxMessagesPerTicket, async full =>
            await ContinuationAsync(state, full) is { } next && await FindTicketAsync(state, next) is { } ticket ? Fill(state, ticket) : null);
        if (placement.TicketId is not { } id)
            return (null, placement.ContinuesTicketId);
        return (id == chosen.Id ? chosen : await FindTicketAsync(state, id), null);
    }

    private static TicketFill Fill(BatchState state, Ticket ticket) => new(ticket.Id, ticket.MessageCount + state.Batch.AddedTo(ticket.Id));

    // The newest ticket continuing a full one, from this batch or the (ContinuesTicketId) index.
    private static async Task<long?> ContinuationAsync(BatchState state, long fullTicketId)
    {
        if (state.Batch.ContinuationOf(fullTicketId) is { } known)
            return known;
        var rows = await state.Rows.SelectAsync<Ticket>([nameof(Ticket.Id)],
            new IntakeRows.Where(nameof(Ticket.ContinuesTicketId), [fullTicketId]));
        if (rows.Count == 0)
            return null;
        var newest = rows.Max(r => (long)r[0]!);
        state.Batch.RememberContinuation(fullTicketId, newest);
        return newest;
    }

    // The same object for the whole batch: from the batch itself, the prefetch, or (rules 1 and 3) the database.
    private static async Task<Ticket?> FindTicketAsync(BatchState state, long id)
    {
        if ((state.Batch.Find(id) ?? state.Prefetch.FindTicket(id)) is { } known)
            return known;
        if (await TicketById(state.Db, id) is not { } loaded)
            return null;
        state.Prefetch.Remember(loaded);
        return loaded;
    }

    private static async Task TimedInsertAsync(BatchState state, Func<Task> insert)
    {
        var started = Stopwatch.GetTimestamp();
        await insert();
        state.InsertTicks += Stopwatch.GetTimestamp() - started;
    }

    private static bool IsForwardingTest(PreparedMessage m, CorporateAddress address)
    {
        if (address.ForwardingTestToken is not { Length: > 0 } token)
            return false;
        var expected = Encoding.UTF8.GetBytes(token);
        return m.ForwardingTestHeaders.Any(h => CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(h), expected))
            || m.Subject.Contains(token, StringComparison.Ordinal);
    }
}
