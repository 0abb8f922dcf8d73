using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Threading;
using ConnectiveOne.Core.Tickets;
using Microsoft.EntityFrameworkCore;

namespace ConnectiveOne.Core.Inbound.Intake;

/// <summary>
/// What threading will ask the database for a whole writer batch, fetched before threading with one query per
/// rule instead of one or two per message: the stored Message-IDs every message of the batch refers to (rule 2),
/// the recent tickets of every (sender, subject) of the batch (rule 4), and the tickets those name.
/// A question the prefetch did not cover goes to the database as before, so an answer never depends on the
/// prefetch guessing right. Rows the batch itself adds are not here: <see cref="IntakeBatchThreadLookup"/> adds them.
/// </summary>
internal sealed class BatchThreadPrefetch
{
    private readonly HashSet<(Guid AddressId, string MessageId)> _idsAsked = [];
    private readonly Dictionary<(Guid AddressId, string MessageId), List<long>> _stored = [];
    private readonly HashSet<(Guid AddressId, string Sender, string SubjectKey)> _recentAsked = [];
    private readonly List<Ticket> _recent = [];
    private readonly Dictionary<long, Ticket> _tickets = [];
    private DateTimeOffset _since = DateTimeOffset.MaxValue;

    private sealed record StoredRef(Guid AddressId, string MessageId, long TicketId);

    private static readonly Func<AppDbContext, Guid[], string[], IAsyncEnumerable<StoredRef>> StoredIds = EF.CompileAsyncQuery(
        (AppDbContext db, Guid[] addressIds, string[] ids) => db.Messages.AsNoTracking()
            .Where(m => addressIds.Contains(m.AddressId) && m.MessageIdHeader != null && ids.Contains(m.MessageIdHeader))
            .Select(m => new StoredRef(m.AddressId, m.MessageIdHeader!, m.TicketId)));

    // The (AddressId, CustomerEmail, SubjectKey) index answers it; pairs that were not asked for are dropped in memory.
    private static readonly Func<AppDbContext, Guid[], string[], string[], DateTimeOffset, IAsyncEnumerable<Ticket>> RecentTickets = EF.CompileAsyncQuery(
        (AppDbContext db, Guid[] addressIds, string[] senders, string[] subjectKeys, DateTimeOffset since) => db.Tickets.AsNoTracking()
            .Where(t => addressIds.Contains(t.AddressId) && senders.Contains(t.CustomerEmail) && subjectKeys.Contains(t.SubjectKey)
                        && t.LastMessageAt >= since));

    private static readonly Func<AppDbContext, long[], IAsyncEnumerable<Ticket>> TicketsById = EF.CompileAsyncQuery(
        (AppDbContext db, long[] ids) => db.Tickets.AsNoTracking().Where(t => ids.Contains(t.Id)));

    /// <summary>Runs the batch's lookups for these deliveries (address and the facts threading will see).</summary>
    public static async Task<BatchThreadPrefetch> LoadAsync(AppDbContext db, ThreadResolverOptions options,
        IReadOnlyCollection<(Guid AddressId, IncomingMessageFacts Facts)> deliveries, CancellationToken cancellationToken)
    {
        var prefetch = new BatchThreadPrefetch();
        if (deliveries.Count == 0)
            return prefetch;
        var addressIds = deliveries.Select(d => d.AddressId).Distinct().ToArray();
        var senders = new HashSet<string>(StringComparer.Ordinal);
        var subjectKeys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (addressId, facts) in deliveries)
        {
            foreach (var id in ThreadResolver.CandidateIds(facts, options))
                prefetch._idsAsked.Add((addressId, id));
            var sender = ThreadResolver.SenderOf(facts);
            var subject = ThreadResolver.SubjectOf(facts, options);
            if (!ThreadResolver.UsesSenderAndSubject(sender, subject, options))
                continue;
            prefetch._recentAsked.Add((addressId, sender, subject.MatchKey));
            senders.Add(sender);
            subjectKeys.Add(subject.MatchKey);
            var since = ThreadResolver.SubjectWindowStart(facts, options);
            if (since < prefetch._since)
                prefetch._since = since;
        }

        var ticketIds = new HashSet<long>();
        if (prefetch._idsAsked.Count > 0)
        {
            var ids = prefetch._idsAsked.Select(k => k.MessageId).Distinct(StringComparer.Ordinal).ToArray();
            await foreach (var row in StoredIds(db, addressIds, ids).WithCancellation(cancellationToken))
            {
                if (!prefetch._idsAsked.Contains((row.AddressId, row.MessageId)))
                    continue;
                if (!prefetch._stored.TryGetValue((row.AddressId, row.MessageId), out var tickets))
                    prefetch._stored[(row.AddressId, row.MessageId)] = tickets = [];
                tickets.Add(row.TicketId);
                ticketIds.Add(row.TicketId);
            }
        }
        if (prefetch._recentAsked.Count > 0)
        {
            await foreach (var ticket in RecentTickets(db, addressIds, [.. senders], [.. subjectKeys], prefetch._since).WithCancellation(cancellationToken))
            {
                if (!prefetch._recentAsked.Contains((ticket.AddressId, ticket.CustomerEmail, ticket.SubjectKey)))
                    continue;
                prefetch._recent.Add(ticket);
                prefetch._tickets[ticket.Id] = ticket;
            }
        }
        ticketIds.ExceptWith(prefetch._tickets.Keys);
        if (ticketIds.Count > 0)
        {
            await foreach (var ticket in TicketsById(db, [.. ticketIds]).WithCancellation(cancellationToken))
                prefetch._tickets[ticket.Id] = ticket;
        }
        return prefetch;
    }

    /// <summary>A ticket loaded by the prefetch (not tracked), or null.</summary>
    public Ticket? FindTicket(long id) => _tickets.GetValueOrDefault(id);

    /// <summary>Keeps a ticket loaded later, so the rest of the batch sees the same object.</summary>
    public void Remember(Ticket ticket) => _tickets[ticket.Id] = ticket;

    /// <summary>The database part of threading for one address: prefetched answers first, the database for the rest.</summary>
    public IThreadLookup ForAddress(Guid addressId, TicketThreadLookup database) => new Lookup(this, addressId, database);

    private sealed class Lookup(BatchThreadPrefetch prefetch, Guid addressId, TicketThreadLookup database) : IThreadLookup
    {
        public Task<IReadOnlyList<TicketThreadSecret>> FindTicketSecretsAsync(IReadOnlyCollection<long> ticketNumbers, CancellationToken cancellationToken) =>
            database.FindTicketSecretsAsync(ticketNumbers, cancellationToken);

        public async Task<IReadOnlyList<StoredMessageId>> FindByMessageIdsAsync(IReadOnlyCollection<string> messageIds, CancellationToken cancellationToken)
        {
            var found = new List<StoredMessageId>();
            List<string>? notAsked = null;
            foreach (var id in messageIds)
            {
                if (!prefetch._idsAsked.Contains((addressId, id)))
                    (notAsked ??= []).Add(id);
                else if (prefetch._stored.TryGetValue((addressId, id), out var tickets))
                    found.AddRange(tickets.Select(t => new StoredMessageId(id, t)));
            }
            if (notAsked is not null)
                found.AddRange(await database.FindByMessageIdsAsync(notAsked, cancellationToken));
            return found;
        }

        public Task<long?> FindTicketWithParticipantAsync(long ticketNumber, string senderAddress, CancellationToken cancellationToken) =>
            database.FindTicketWithParticipantAsync(ticketNumber, senderAddress, cancellationToken);

        public Task<RecentTicket?> FindRecentBySenderAndSubjectAsync(string senderAddress, string subjectKey, DateTimeOffset since, CancellationToken cancellationToken)
        {
            if (!prefetch._recentAsked.Contains((addressId, senderAddress, subjectKey)) || since < prefetch._since)
                return database.FindRecentBySenderAndSubjectAsync(senderAddress, subjectKey, since, cancellationToken);
            RecentTicket? best = null;
            foreach (var t in prefetch._recent)
            {
                if (t.AddressId == addressId && t.LastMessageAt >= since && (best is null || t.LastMessageAt > best.LastActivityAt)
                    && string.Equals(t.CustomerEmail, senderAddress, StringComparison.Ordinal) && string.Equals(t.SubjectKey, subjectKey, StringComparison.Ordinal))
                    best = new RecentTicket(t.Id, t.LastMessageAt);
            }
            return Task.FromResult(best);
        }
    }
}
