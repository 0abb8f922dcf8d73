using ConnectiveOne.Core.Persistence;
using Microsoft.EntityFrameworkCore;

namespace ConnectiveOne.Core.Tickets;

internal static class MessageCounter
{
    /// <summary>
    /// Counts one more message on a ticket in the database itself (<c>MessageCount = MessageCount + 1</c>), and
    /// optionally sets its last activity. Reading the count and writing it back lost one when a reply, a note or an
    /// incoming mail landed on the same ticket at once.
    /// </summary>
    public static Task CountMessageAsync(this AppDbContext db, long ticketId, DateTimeOffset? lastMessageAt, CancellationToken ct) =>
        db.Tickets.Where(t => t.Id == ticketId).ExecuteUpdateAsync(set =>
        {
            set.SetProperty(t => t.MessageCount, t => t.MessageCount + 1);
            if (lastMessageAt is { } at)
                set.SetProperty(t => t.LastMessageAt, at);
        }, ct);
}
