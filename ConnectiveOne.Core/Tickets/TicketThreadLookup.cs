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
/// A merged ticket keeps its row: each query answers with <see cref="Ticket.MergedIntoTicketId"/> in its place, in the
/// same query (no extra one per message), so its number, token and subject lead to the ticket it was merged into.
/// </remarks>
public sealed class TicketThreadLookup(AppDbContext db, Guid addressId) : IThreadLookup
{
    // Compiled once: intake threads every message, and EF's per-call query cache lookup was a visible share of it.
    private static readonly Func<AppDbContext, Guid, long[], IAsyncEnumerable<TicketThreadSecret>> Secrets = EF.CompileAsyncQuery(
        (AppDbContext db, Guid addressId, long[] numbers) => db.Tickets.AsNoTracking()
            .Where(t => t.AddressId == addressId && numbers.Contains(t.Id))
            .Select(t => new TicketThreadSecret(t.MergedIntoTicketId ?? t.Id, t.Id, t.ThreadToken)));

    private static readonly Func<AppDbContext, Guid, string[], IAsyncEnumerable<StoredMessageId>> ByMessageIds = EF.CompileAsyncQuery(
        (AppDbContext db, Guid addressId, string[] ids) => db.Messages.AsNoTracking()
            .Where(m => m.AddressId == addressId && m.MessageIdHeader != null && ids.Contains(m.MessageIdHeader))
            .Select(m => new StoredMessageId(m.MessageIdHeader!, m.TicketId)));

    // For a merged ticket N, taking part in either N or the ticket it went into counts (its messages and participants moved there).
    private static readonly Func<AppDbContext, Guid, long, string, Task<long?>> WithParticipant = EF.CompileAsyncQuery(
        (AppDbContext db, Guid addressId, long number, string sender) => db.Tickets.AsNoTracking()
            .Where(n => n.Id == number && n.AddressId == addressId)
            .Select(n => new { Id = n.MergedIntoTicketId ?? n.Id, n.CustomerEmail })
            .Where(t => t.CustomerEmail == sender
                        || db.Tickets.Any(m => m.Id == t.Id && m.CustomerEmail == sender)
                        // Only mail that came in counts: our replies carry the corporate address as From, and a
                        // customer spoofing that address must not be able to post into every ticket.
                        || db.Messages.Any(m => m.TicketId == t.Id && m.Direction == MessageDirection.Inbound && m.FromAddress == sender)
                        // Someone copied on the conversation (Cc of the customer's mail, or of a reply).
                        || db.Participants.Any(p => p.TicketId == t.Id && p.Email == sender))
            .Select(t => (long?)t.Id)
            .FirstOrDefault());

    private static readonly Func<AppDbContext, Guid, string, string, DateTimeOffset, Task<RecentTicket?>> Recent = EF.CompileAsyncQuery(
        (AppDbContext db, Guid addressId, string sender, string subjectKey, DateTimeOffset since) => db.Tickets.AsNoTracking()
            .Where(t => t.AddressId == addressId && t.CustomerEmail == sender && t.SubjectKey == subjectKey && t.LastMessageAt >= since)
            .OrderByDescending(t => t.LastMessageAt)
            .Select(t => new RecentTicket(t.MergedIntoTicketId ?? t.Id, t.LastMessageAt))
            .FirstOrDefault());

    public async Task<IReadOnlyList<TicketThreadSecret>> FindTicketSecretsAsync(IReadOnlyCollection<long> ticketNumbers, CancellationToken cancellationToken) =>
        await Secrets(db, addressId, [.. ticketNumbers]).ToListAsync(cancellationToken);

    public async Task<IReadOnlyList<StoredMessageId>> FindByMessageIdsAsync(IReadOnlyCollection<string> messageIds, CancellationToken cancellationToken) =>
        await ByMessageIds(db, addressId, [.. messageIds]).ToListAsync(cancellationToken);

    public Task<long?> FindTicketWithParticipantAsync(long ticketNumber, string senderAddress, CancellationToken cancellationToken) =>
        WithParticipant(db, addressId, ticketNumber, senderAddress);

    public Task<RecentTicket?> FindRecentBySenderAndSubjectAsync(string senderAddress, string subjectKey, DateTimeOffset since, CancellationToken cancellationToken) =>
        Recent(db, addressId, senderAddress, subjectKey, since);
}
