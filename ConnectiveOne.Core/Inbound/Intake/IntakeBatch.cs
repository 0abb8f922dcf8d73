using ConnectiveOne.Core.Threading;
using ConnectiveOne.Core.Tickets;

namespace ConnectiveOne.Core.Inbound.Intake;

/// <summary>
/// What one writer batch has added or changed so far. Rows are inserted as the batch goes (so they have ids), but
/// threading asks a prefetch taken before the batch (<see cref="BatchThreadPrefetch"/>), so it looks here too; and
/// changed tickets are written once, at the end of the batch.
/// </summary>
internal sealed class IntakeBatch
{
    private readonly Dictionary<long, Ticket> _tickets = [];
    private readonly Dictionary<long, (Ticket Ticket, bool Reopened, int Added)> _changed = [];
    private readonly Dictionary<(Guid AddressId, string DedupKey), TicketMessage> _byDedupKey = [];
    private readonly List<TicketMessage> _messages = [];

    /// <summary>The messages added so far, in order.</summary>
    public IReadOnlyList<TicketMessage> Messages => _messages;

    /// <summary>A ticket this batch created or changed, or null.</summary>
    public Ticket? Find(long id) => _tickets.GetValueOrDefault(id);

    private readonly Dictionary<long, long> _continuations = [];

    /// <summary>A ticket inserted by this batch.</summary>
    public void AddTicket(Ticket ticket)
    {
        _tickets[ticket.Id] = ticket;
        if (ticket.ContinuesTicketId is { } full)
            _continuations[full] = ticket.Id;
    }

    /// <summary>Messages this batch has added to a ticket so far (its stored count does not include them yet).</summary>
    public int AddedTo(long ticketId) => _changed.TryGetValue(ticketId, out var changed) ? changed.Added : 0;

    /// <summary>The ticket that continues a full one, as created or looked up in this batch; null when not known here.</summary>
    public long? ContinuationOf(long ticketId) => _continuations.TryGetValue(ticketId, out var id) ? id : null;

    /// <summary>Remembers a continuation read from the database, so the batch asks for it once.</summary>
    public void RememberContinuation(long fullTicketId, long continuationId) => _continuations[fullTicketId] = continuationId;

    /// <summary>A ticket that got another message in this batch: written at the end of it.</summary>
    public void Touch(Ticket ticket, bool reopened)
    {
        _tickets[ticket.Id] = ticket;
        var before = _changed.GetValueOrDefault(ticket.Id);
        _changed[ticket.Id] = (ticket, reopened || before.Reopened, before.Added + 1);
    }

    /// <summary>Tickets to write at the end of the batch, whether a reply reopened them, and how many messages they got.</summary>
    public IEnumerable<(Ticket Ticket, bool Reopened, int Added)> Changed => _changed.Values;

    public void AddMessage(TicketMessage message)
    {
        _messages.Add(message);
        _byDedupKey[(message.AddressId, message.DedupKey)] = message;
    }

    private readonly HashSet<(long TicketId, string Email)> _participants = [];

    /// <summary>Records a participant of a ticket; false when this batch added (or tried to add) it already.</summary>
    public bool AddParticipant(long ticketId, string email) => _participants.Add((ticketId, email));

    /// <summary>Whether this batch added <paramref name="email"/> as a participant of the ticket.</summary>
    public bool HasParticipant(long ticketId, string email) => _participants.Contains((ticketId, email));

    public TicketMessage? FindDuplicate(Guid addressId, string dedupKey) => _byDedupKey.GetValueOrDefault((addressId, dedupKey));

    /// <summary>Tickets of this batch (new or changed) for the sender + subject rule, with their current activity time.</summary>
    public IEnumerable<Ticket> Tickets => _tickets.Values;
}

/// <summary>
/// <see cref="IThreadLookup"/> over the database as it was when the batch began (the prefetch, or
/// <see cref="TicketThreadLookup"/>) plus what the current batch added, so a reply finds its parent even when both
/// arrived in the same group commit.
/// </summary>
internal sealed class IntakeBatchThreadLookup(IThreadLookup database, IntakeBatch batch, Guid addressId) : IThreadLookup
{
    // Our own Message-IDs name tickets that already had outbound mail, so they are never new in this batch.
    public Task<IReadOnlyList<TicketThreadSecret>> FindTicketSecretsAsync(IReadOnlyCollection<long> ticketNumbers, CancellationToken cancellationToken) =>
        database.FindTicketSecretsAsync(ticketNumbers, cancellationToken);

    public async Task<IReadOnlyList<StoredMessageId>> FindByMessageIdsAsync(IReadOnlyCollection<string> messageIds, CancellationToken cancellationToken)
    {
        var found = await database.FindByMessageIdsAsync(messageIds, cancellationToken);
        List<StoredMessageId>? merged = null;
        foreach (var message in batch.Messages)
        {
            if (message.AddressId != addressId || message.MessageIdHeader is not { } id || !messageIds.Contains(id))
                continue;
            merged ??= [.. found];
            merged.Add(new StoredMessageId(id, message.Ticket!.Id));
        }
        return merged ?? found;
    }

    public async Task<long?> FindTicketWithParticipantAsync(long ticketNumber, string senderAddress, CancellationToken cancellationToken)
    {
        if (await database.FindTicketWithParticipantAsync(ticketNumber, senderAddress, cancellationToken) is { } id)
            return id;
        foreach (var message in batch.Messages)
        {
            if (message.Ticket is { Id: var ticketId } ticket && ticketId == ticketNumber && ticket.AddressId == addressId
                && string.Equals(message.FromAddress, senderAddress, StringComparison.Ordinal))
                return ticketId;
        }
        // Someone this batch added to ticket N (in Cc of an earlier message) counts as well.
        return batch.Find(ticketNumber) is { } known && known.AddressId == addressId && batch.HasParticipant(ticketNumber, senderAddress)
            ? ticketNumber : null;
    }

    public async Task<RecentTicket?> FindRecentBySenderAndSubjectAsync(string senderAddress, string subjectKey, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var best = await database.FindRecentBySenderAndSubjectAsync(senderAddress, subjectKey, since, cancellationToken);
        if (best is not null && batch.Find(best.TicketId) is { } changed)
            best = best with { LastActivityAt = changed.LastMessageAt };
        foreach (var ticket in batch.Tickets)
        {
            if (ticket.AddressId == addressId && ticket.LastMessageAt >= since && (best is null || ticket.LastMessageAt > best.LastActivityAt)
                && string.Equals(ticket.CustomerEmail, senderAddress, StringComparison.Ordinal)
                && string.Equals(ticket.SubjectKey, subjectKey, StringComparison.Ordinal))
                best = new RecentTicket(ticket.Id, ticket.LastMessageAt);
        }
        return best;
    }
}
