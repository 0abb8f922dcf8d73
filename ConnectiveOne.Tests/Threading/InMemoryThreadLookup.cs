using ConnectiveOne.Core.Threading;

namespace ConnectiveOne.Tests.Threading;

/// <summary>The lookup answered from lists, the way the EF implementation answers it from tables.</summary>
public sealed class InMemoryThreadLookup : IThreadLookup
{
    private readonly List<Ticket> _tickets = [];
    private readonly List<Message> _messages = [];

    public sealed record Ticket(long Id, long Number, string ThreadToken);

    public sealed record Message(long TicketId, string? MessageId, string Sender, string SubjectKey, DateTimeOffset Date);

    public IReadOnlyList<Ticket> Tickets => _tickets;

    public Ticket CreateTicket()
    {
        var ticket = new Ticket(_tickets.Count + 1000, _tickets.Count + 1, MessageIdFormat.NewThreadToken());
        _tickets.Add(ticket);
        return ticket;
    }

    /// <summary>Stores a message the way the caller would: normalized id, lower-case sender, subject match key.</summary>
    public void AddMessage(long ticketId, string? messageId, string sender, string? subject, DateTimeOffset date) =>
        _messages.Add(new Message(
            ticketId,
            messageId is null ? null : MessageIds.Normalize(messageId),
            sender.Trim().ToLowerInvariant(),
            SubjectNormalizer.Normalize(subject).MatchKey,
            date));

    public Task<IReadOnlyList<TicketThreadSecret>> FindTicketSecretsAsync(IReadOnlyCollection<long> ticketNumbers, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<TicketThreadSecret>>(_tickets
            .Where(t => ticketNumbers.Contains(t.Number))
            .Select(t => new TicketThreadSecret(t.Id, t.Number, t.ThreadToken))
            .ToList());

    public Task<IReadOnlyList<StoredMessageId>> FindByMessageIdsAsync(IReadOnlyCollection<string> messageIds, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<StoredMessageId>>(_messages
            .Where(m => m.MessageId is not null && messageIds.Contains(m.MessageId, StringComparer.Ordinal))
            .Select(m => new StoredMessageId(m.MessageId!, m.TicketId))
            .ToList());

    public Task<long?> FindTicketWithParticipantAsync(long ticketNumber, string senderAddress, CancellationToken cancellationToken)
    {
        var ticket = _tickets.FirstOrDefault(t => t.Number == ticketNumber);
        var participant = ticket is not null && _messages.Any(m => m.TicketId == ticket.Id && m.Sender == senderAddress);
        return Task.FromResult(participant ? ticket!.Id : (long?)null);
    }

    public Task<RecentTicket?> FindRecentBySenderAndSubjectAsync(string senderAddress, string subjectKey, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var recent = _messages
            .Where(m => m.Sender == senderAddress && m.SubjectKey == subjectKey)
            .Select(m => m.TicketId)
            .Distinct()
            .Select(id => new RecentTicket(id, _messages.Where(m => m.TicketId == id).Max(m => m.Date)))
            .Where(t => t.LastActivityAt >= since)
            .OrderByDescending(t => t.LastActivityAt)
            .FirstOrDefault();
        return Task.FromResult(recent);
    }
}
