using ConnectiveOne.Core.Persistence;
using Microsoft.EntityFrameworkCore;

namespace ConnectiveOne.Core.Tickets;

/// <summary>What the inbox row shows of a ticket's last message the customer sees (a reply; notes are not that).</summary>
public sealed record LastMessage(string? Preview, MessageDirection Direction, bool HasAttachments);

internal static class MessageCounter
{
    /// <summary>
    /// Counts one more message on a ticket in the database itself (<c>MessageCount = MessageCount + 1</c>), and
    /// optionally sets its last activity and what its inbox row shows of that message (<paramref name="last"/>).
    /// Reading the count and writing it back lost one when a reply, a note or an incoming mail landed on the same
    /// ticket at once.
    /// </summary>
    public static Task CountMessageAsync(this AppDbContext db, long ticketId, DateTimeOffset? lastMessageAt, CancellationToken ct,
        LastMessage? last = null) =>
        db.Tickets.Where(t => t.Id == ticketId).ExecuteUpdateAsync(set =>
        {
            set.SetProperty(t => t.MessageCount, t => t.MessageCount + 1);
            if (lastMessageAt is { } at)
                set.SetProperty(t => t.LastMessageAt, at);
            if (last is not null)
            {
                set.SetProperty(t => t.LastMessagePreview, last.Preview);
                set.SetProperty(t => t.LastDirection, last.Direction);
                if (last.HasAttachments)
                    set.SetProperty(t => t.HasAttachments, true); // only ever turns on
            }
        }, ct);
}
