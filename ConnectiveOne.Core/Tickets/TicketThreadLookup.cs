using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Threading;
using Microsoft.EntityFrameworkCore;

namespace ConnectiveOne.Core.Tickets;

/// <summary>
/// <see cref="IThreadLookup"/> over the tickets of one corporate address (mail to one address never joins a
/// ticket of another). The ticket number is the ticket id. Runs on the caller's context, inside its
/// transaction, so it sees messages saved earlier in the same batch.
/// </summary>
/// <remarks>
/// Rule 4 (sender + subject) compares the ticket's customer and subject key, which are those of the message
/// that opened it; an index on (AddressId, CustomerEmail, SubjectKey) answers it.
/// </remarks>
public sealed class TicketThreadLookup(AppDbContext db, Guid addressId) : IThreadLookup
{
    public async Task<IReadOnlyList<TicketThreadSecret>> FindTicketSecretsAsync(IReadOnlyCollection<long> ticketNumbers, CancellationToken cancellationToken) =>
        await db.Tickets.AsNoTracking()
            .Where(t => t.AddressId == addressId && ticketNumbers.Contains(t.Id))
            .Select(t => new TicketThreadSecret(t.Id, t.Id, t.ThreadToken))
            .ToListAsync(cancellationToken);

    public async Task<IReadOnlyList<StoredMessageId>> FindByMessageIdsAsync(IReadOnlyCollection<string> messageIds, CancellationToken cancellationToken) =>
        await db.Messages.AsNoTracking()
            .Where(m => m.AddressId == addressId && m.MessageIdHeader != null && messageIds.Contains(m.MessageIdHeader))
            .Select(m => new StoredMessageId(m.MessageIdHeader!, m.TicketId))
            .ToListAsync(cancellationToken);

    public async Task<long?> FindTicketWithParticipantAsync(long ticketNumber, string senderAddress, CancellationToken cancellationToken) =>
        await db.Tickets.AsNoTracking()
            .Where(t => t.Id == ticketNumber && t.AddressId == addressId
                        && (t.CustomerEmail == senderAddress
                            // Only mail that came in counts: our replies carry the corporate address as From, and a
                            // customer spoofing that address must not be able to post into every ticket.
                            || t.Messages.Any(m => m.Direction == MessageDirection.Inbound && m.FromAddress == senderAddress)))
            .Select(t => (long?)t.Id)
            .FirstOrDefaultAsync(cancellationToken);

    public async Task<RecentTicket?> FindRecentBySenderAndSubjectAsync(string senderAddress, string subjectKey, DateTimeOffset since, CancellationToken cancellationToken) =>
        await db.Tickets.AsNoTracking()
            .Where(t => t.AddressId == addressId && t.CustomerEmail == senderAddress && t.SubjectKey == subjectKey && t.LastMessageAt >= since)
            .OrderByDescending(t => t.LastMessageAt)
            .Select(t => new RecentTicket(t.Id, t.LastMessageAt))
            .FirstOrDefaultAsync(cancellationToken);
}
