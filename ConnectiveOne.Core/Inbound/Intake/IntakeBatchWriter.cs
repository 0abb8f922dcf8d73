using System.Diagnostics;
using System.Globalization;
using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Notifications;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Threading;
using ConnectiveOne.Core.Tickets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ConnectiveOne.Core.Inbound.Intake;

/// <summary>
/// One batch of the <see cref="IntakeWriter"/> in one transaction: loads the batch's addresses, what is stored already
/// and what threading needs, hands each delivery to <see cref="IntakeDeliveryWriter"/>, writes the ticket and address
/// updates, commits, and then reports each delivery (with its change events). Holds the writer's one connection.
/// </summary>
internal sealed class IntakeBatchWriter(IServiceScopeFactory scopes, TimeProvider clock, int maxMessagesPerTicket, ILogger<IntakeWriter> logger)
{
    private readonly IntakeDeliveryWriter _deliveries = new(maxMessagesPerTicket, logger);

    // The batch finishes even while the app stops: its senders are waiting for the answer.
    public async Task<(List<IntakeResult> Results, List<ChangeEvent> Events)> WriteAsync(IReadOnlyList<PendingIntake> batch)
    {
        var none = CancellationToken.None;
        var started = Stopwatch.GetTimestamp();
        BatchState state;
        var outcomes = new List<List<DeliveryOutcome>>(batch.Count);
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
            var corporate = await CorporateAmongPeopleAsync(rows, batch);
            var looked = Stopwatch.GetTimestamp();
            state = new BatchState(db, rows, new IntakeBatch(), prefetch, addresses, stored, [], now) { Corporate = corporate };
            for (var i = 0; i < batch.Count; i++)
            {
                var deliveriesOfItem = new List<DeliveryOutcome>(batch[i].AddressIds.Count);
                foreach (var addressId in batch[i].AddressIds)
                    deliveriesOfItem.Add(await _deliveries.WriteOneAsync(batch[i].Message, facts[i], addressId, state));
                outcomes.Add(deliveriesOfItem);
            }
            await IntakeNotifications.WriteAsync(state, outcomes.SelectMany(o => o));
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

    public async Task DropContextAsync()
    {
        if (_context is not { Scope: var scope, Rows: var rows })
            return;
        _context = null;
        await rows.DisposeAsync();
        await scope.DisposeAsync();
    }

    // Where the time goes, per batch (Debug): preparing on the session threads, waiting in the queue, the
    // lookups and inserts inside the transaction (attachment content included), and the commit (the one fsync).
    private void LogTimings(IReadOnlyList<PendingIntake> batch, long started, long looked, long built, long written, long insertTicks)
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

    internal static readonly ThreadResolverOptions ThreadOptions = new();

    private IntakeDelivery Report(DeliveryOutcome o, List<ChangeEvent> events)
    {
        if (o.Kind is IntakeOutcome.Duplicate or IntakeOutcome.DeliveryReportRecorded && o.Earlier is { } earlier)
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

    // Our corporate addresses never become participants (a reply copied to one would come straight back in); the
    // preparer knows only those the mail was sent to, so one query per batch asks about the rest, and none when no
    // message of the batch names anyone but its sender (most mail: the customer writing to one address).
    private static async Task<HashSet<string>> CorporateAmongPeopleAsync(IntakeRows rows, IReadOnlyList<PendingIntake> batch)
    {
        // The message's own customer is asked about as a customer is (CustomerAddress.Choose), not again here.
        var people = batch.SelectMany(p => p.Message.People.Where(a => a.Email != p.Message.CustomerAddress).Select(a => a.Email))
            .Distinct(StringComparer.Ordinal).Cast<object>().ToList();
        var found = await rows.SelectAsync<CorporateAddress>([nameof(CorporateAddress.NormalizedEmail)],
            new IntakeRows.Where(nameof(CorporateAddress.NormalizedEmail), people));
        return found.Select(r => (string)r[0]!).ToHashSet(StringComparer.Ordinal);
    }

    // One query for the whole batch: which (address, dedup key) pairs are stored already.
    private static async Task<Dictionary<(Guid, string), (long MessageId, long TicketId)>> FindStoredAsync(IntakeRows rows,
        IReadOnlyList<PendingIntake> batch, List<Guid> addressIds)
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
}

/// <summary>An address of the batch: whether mail was delivered to it, and whether its forwarding fields changed.</summary>
internal sealed class AddressState(CorporateAddress address, Guid? botId)
{
    private readonly (ForwardingStatus, string?, string?) _loaded = (address.Forwarding, address.ForwardingDetail, address.ForwardingTestToken);
    public CorporateAddress Address => address;
    public Guid? BotId => botId;
    public bool Seen { get; set; }
    public bool ForwardingChanged => _loaded != (address.Forwarding, address.ForwardingDetail, address.ForwardingTestToken);
}

/// <summary>What one batch's deliveries share: the open context, what the batch added, what was loaded for it.</summary>
internal sealed record BatchState(AppDbContext Db, IntakeRows Rows, IntakeBatch Batch, BatchThreadPrefetch Prefetch,
    Dictionary<Guid, AddressState> Addresses, Dictionary<(Guid, string), (long MessageId, long TicketId)> Stored,
    List<ChangeEvent> Events, DateTimeOffset Now)
{
    /// <summary>The SHA-256s whose content this batch has written (or found stored) already.</summary>
    public HashSet<string> Contents { get; } = new(StringComparer.Ordinal);

    /// <summary>Corporate addresses among the people the batch's messages name: never participants.</summary>
    public HashSet<string> Corporate { get; init; } = [];

    /// <summary>The delivery reports this batch recorded, by (address, dedup key): a report delivered twice in one batch is kept once.</summary>
    public HashSet<(Guid, string)> Reports { get; } = [];

    /// <summary>Bounces on our replies that this batch recorded, for their authors' notifications.</summary>
    public List<IntakeNotifications.BounceNotice> Bounces { get; } = [];

    /// <summary>Stopwatch ticks spent in inserts while threading (for the Debug breakdown).</summary>
    public long InsertTicks { get; set; }
}

/// <summary>A delivery decided in the batch; ids are read once the batch is saved.</summary>
internal sealed record DeliveryOutcome(Guid AddressId, IntakeOutcome Kind, TicketMessage? Message = null, (long MessageId, long TicketId)? Earlier = null,
    bool Created = false, bool Reopened = false, ThreadRule Rule = ThreadRule.NewTicket);
