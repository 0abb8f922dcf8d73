using ConnectiveOne.Core.Threading;
using ConnectiveOne.Core.Tickets;

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

    /// <summary>Runs the batch's lookups for these deliveries (address and the facts threading will see).</summary>
    public static async Task<BatchThreadPrefetch> LoadAsync(IntakeRows rows, ThreadResolverOptions options,
        IReadOnlyCollection<(Guid AddressId, IncomingMessageFacts Facts)> deliveries)
    {
        var prefetch = new BatchThreadPrefetch();
        if (deliveries.Count == 0)
            return prefetch;
        var addressIds = new IntakeRows.Where(nameof(Ticket.AddressId), deliveries.Select(d => d.AddressId).Distinct().Cast<object>().ToList());
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
            var ids = prefetch._idsAsked.Select(k => k.MessageId).Distinct(StringComparer.Ordinal).Cast<object>().ToList();
            var found = await rows.SelectAsync<TicketMessage>(
                [nameof(TicketMessage.AddressId), nameof(TicketMessage.MessageIdHeader), nameof(TicketMessage.TicketId)],
                addressIds, new(nameof(TicketMessage.MessageIdHeader), ids));
            foreach (var row in found)
            {
                var key = ((Guid)row[0]!, (string)row[1]!);
                if (!prefetch._idsAsked.Contains(key))
                    continue;
                if (!prefetch._stored.TryGetValue(key, out var tickets))
                    prefetch._stored[key] = tickets = [];
                tickets.Add((long)row[2]!);
                ticketIds.Add((long)row[2]!);
            }
        }
        if (prefetch._recentAsked.Count > 0)
        {
            // The (AddressId, CustomerEmail, SubjectKey) index answers it; pairs that were not asked for are dropped here.
            var recent = await rows.LoadAsync<Ticket>(addressIds, new(nameof(Ticket.CustomerEmail), senders.Cast<object>().ToList()),
                new(nameof(Ticket.SubjectKey), subjectKeys.Cast<object>().ToList()), new(nameof(Ticket.LastMessageAt), [prefetch._since], AtLeast: true));
            foreach (var ticket in recent)
            {
                if (!prefetch._recentAsked.Contains((ticket.AddressId, ticket.CustomerEmail, ticket.SubjectKey)))
                    continue;
                prefetch._recent.Add(ticket);
                prefetch._tickets[ticket.Id] = ticket;
                // Rule 4 answers with the ticket a merged one went into: load that one with the others.
                if (ticket.MergedIntoTicketId is { } target)
                    ticketIds.Add(target);
            }
        }
        ticketIds.ExceptWith(prefetch._tickets.Keys);
        if (ticketIds.Count > 0)
        {
            foreach (var ticket in await rows.LoadAsync<Ticket>(new IntakeRows.Where(nameof(Ticket.Id), ticketIds.Cast<object>().ToList())))
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
                    best = new RecentTicket(t.MergedIntoTicketId ?? t.Id, t.LastMessageAt);
            }
            return Task.FromResult(best);
        }
    }
}
