using ConnectiveOne.Core.Threading;
using ConnectiveOne.Core.Tickets;

namespace ConnectiveOne.Core.Inbound.Intake;

/// <summary>
/// What one writer batch has added or changed but not yet saved: the writer saves the whole batch with one
/// <c>SaveChanges</c>, so threading and duplicate checks look here first, then in the database.
/// Tickets created in the batch have no id yet; they are known to threading by a negative stand-in.
/// </summary>
internal sealed class IntakeBatch
{
    private readonly List<Ticket> _newTickets = [];
    private readonly Dictionary<long, Ticket> _touched = [];
    private readonly Dictionary<(Guid AddressId, string DedupKey), TicketMessage> _byDedupKey = [];
    private readonly List<TicketMessage> _messages = [];

    /// <summary>The messages added so far, in order.</summary>
    public IReadOnlyList<TicketMessage> Messages => _messages;

    /// <summary>The id threading uses for <paramref name="ticket"/>: its own, or a stand-in while it is new.</summary>
    public long KeyOf(Ticket ticket) => ticket.Id > 0 ? ticket.Id : -(_newTickets.IndexOf(ticket) + 1);

    /// <summary>A ticket of this batch by the key <see cref="KeyOf"/> gave, or null for one only in the database.</summary>
    public Ticket? Find(long key) => key < 0 ? _newTickets[(int)(-key - 1)] : _touched.GetValueOrDefault(key);

    public void AddTicket(Ticket ticket) => _newTickets.Add(ticket);

    public void Touch(Ticket ticket) => _touched[ticket.Id] = ticket;

    public void AddMessage(TicketMessage message)
    {
        _messages.Add(message);
        _byDedupKey[(message.AddressId, message.DedupKey)] = message;
    }

    public TicketMessage? FindDuplicate(Guid addressId, string dedupKey) => _byDedupKey.GetValueOrDefault((addressId, dedupKey));

    /// <summary>Tickets of this batch (new or changed) for the sender + subject rule, with their current activity time.</summary>
    public IEnumerable<Ticket> Tickets => _newTickets.Concat(_touched.Values);
}

/// <summary>
/// <see cref="IThreadLookup"/> over the database (<see cref="TicketThreadLookup"/>) plus the unsaved part of the
/// current batch, so a reply finds its parent even when both arrived in the same group commit.
/// </summary>
internal sealed class IntakeBatchThreadLookup(TicketThreadLookup database, IntakeBatch batch, Guid addressId) : IThreadLookup
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
            merged.Add(new StoredMessageId(id, batch.KeyOf(message.Ticket!)));
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
        return null;
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
                best = new RecentTicket(batch.KeyOf(ticket), ticket.LastMessageAt);
        }
        return best;
    }
}
