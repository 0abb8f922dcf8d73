using ConnectiveOne.Core.Accounts;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Persistence;
using Microsoft.EntityFrameworkCore;

namespace ConnectiveOne.Core.Tickets;

/// <summary>The outcome of a change to a ticket: done, or what was wrong in words.</summary>
public sealed record TicketChangeResult(bool Found, string? Error)
{
    public static readonly TicketChangeResult Done = new(true, null);
    public static readonly TicketChangeResult Missing = new(false, null);
    public static TicketChangeResult Invalid(string error) => new(true, error);
}

/// <summary>Operators' work on a ticket: its status, who is on it, and internal notes.</summary>
public sealed class TicketCommands(AppDbContext db, ChangeNotifier notifier, TimeProvider clock)
{
    /// <summary>
    /// Adds a note for colleagues to the thread. Notes never leave the system: no outbox row, no raw message,
    /// and they don't count as activity that reopens or reorders the ticket for the customer.
    /// </summary>
    public async Task<(long? MessageId, string? Error)> AddNoteAsync(long ticketId, string? text, string authorUserId,
        CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(text))
            return (null, "A note needs some text.");
        var ticket = await db.Tickets.FirstOrDefaultAsync(t => t.Id == ticketId, ct);
        if (ticket is null)
            return (null, $"There is no ticket #{ticketId}.");
        var author = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == authorUserId, ct);
        var note = new TicketMessage
        {
            TicketId = ticket.Id,
            AddressId = ticket.AddressId,
            Direction = MessageDirection.Note,
            DedupKey = "note:" + Guid.NewGuid().ToString("N"),
            FromAddress = (author?.Email ?? authorUserId).ToLowerInvariant(),
            FromName = author?.DisplayName,
            Subject = ticket.Subject,
            ReceivedAt = clock.GetUtcNow(),
            Text = text.Trim(),
            AuthorUserId = authorUserId,
        };
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            db.Messages.Add(note);
            await db.SaveChangesAsync(ct);
            await db.CountMessageAsync(ticket.Id, lastMessageAt: null, ct);
            await transaction.CommitAsync(ct);
        }
        notifier.Publish(new ChangeEvent(ChangeKind.MessageAdded, ticket.Id.ToString()) { MessageId = note.Id });
        return (note.Id, null);
    }

    /// <param name="ticketId">The ticket.</param>
    /// <param name="status">New status, or null to keep it.</param>
    /// <param name="assigneeId">New assignee: a user id, "" to unassign, or null to keep it.</param>
    /// <param name="ct">Cancels the change.</param>
    public async Task<TicketChangeResult> UpdateAsync(long ticketId, TicketStatus? status, string? assigneeId, CancellationToken ct = default)
    {
        var ticket = await db.Tickets.FirstOrDefaultAsync(t => t.Id == ticketId, ct);
        if (ticket is null)
            return TicketChangeResult.Missing;
        if (status is { } s && !Enum.IsDefined(s))
            return TicketChangeResult.Invalid("Status must be Open, Pending or Resolved.");
        if (assigneeId is { Length: > 0 })
        {
            var active = await db.Users.AnyAsync(u => u.Id == assigneeId && u.IsActive, ct);
            if (!active)
                return TicketChangeResult.Invalid("There is no active user with that id to assign.");
        }
        var changed = false;
        if (status is { } newStatus && ticket.Status != newStatus)
        {
            ticket.Status = newStatus;
            changed = true;
        }
        if (assigneeId is not null)
        {
            var newAssignee = assigneeId.Length == 0 ? null : assigneeId;
            if (ticket.AssigneeId != newAssignee)
            {
                ticket.AssigneeId = newAssignee;
                changed = true;
            }
        }
        if (changed)
        {
            await db.SaveChangesAsync(ct);
            notifier.Publish(new ChangeEvent(ChangeKind.TicketUpdated, ticket.Id.ToString()));
        }
        return TicketChangeResult.Done;
    }

    /// <summary>Active users who can be assigned, by name.</summary>
    public async Task<IReadOnlyList<(string Id, string Name)>> AssignableAsync(CancellationToken ct = default)
    {
        var users = await db.Users.AsNoTracking().Where(u => u.IsActive).ToListAsync(ct);
        return users.OrderBy(u => u.Email, StringComparer.Ordinal).Select(u => (u.Id, u.Name)).ToList();
    }
}
