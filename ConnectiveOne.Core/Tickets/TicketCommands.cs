using ConnectiveOne.Core.Accounts;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Notifications;
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
public sealed class TicketCommands(AppDbContext db, ChangeNotifier notifier, TimeProvider clock, NotificationCenter notifications)
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
        if (ticket?.MergedIntoTicketId is { } mergedInto)
            ticket = await db.Tickets.FirstOrDefaultAsync(t => t.Id == mergedInto, ct);
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
        var mentioned = NotificationRules.Mentioned(note.Text, await notifications.UsersAsync(ct), authorUserId)
            .Select(u => NotificationRules.Create(u, NotificationKind.Mention, ticket.Id,
                $"{author?.Name ?? "Someone"} mentioned you on #{ticket.Id}: {NotificationRules.Snippet(note.Text)}", note.ReceivedAt)).ToList();
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            db.Messages.Add(note);
            await db.SaveChangesAsync(ct);
            await db.CountMessageAsync(ticket.Id, lastMessageAt: null, ct);
            await notifications.AddAsync(mentioned, ct);
            await transaction.CommitAsync(ct);
        }
        notifier.Publish(new ChangeEvent(ChangeKind.MessageAdded, ticket.Id.ToString()) { MessageId = note.Id });
        notifications.Announce(mentioned);
        return (note.Id, null);
    }

    /// <param name="ticketId">The ticket.</param>
    /// <param name="status">New status, or null to keep it.</param>
    /// <param name="assigneeId">New assignee: a user id, "" to unassign, or null to keep it.</param>
    /// <param name="ct">Cancels the change.</param>
    /// <param name="actorUserId">Who makes the change, for the ticket's events (null for the system); assigning a ticket to
    /// someone else notifies them, to oneself nobody.</param>
    public async Task<TicketChangeResult> UpdateAsync(long ticketId, TicketStatus? status, string? assigneeId, CancellationToken ct = default,
        string? actorUserId = null)
    {
        var ticket = await db.Tickets.FirstOrDefaultAsync(t => t.Id == ticketId, ct);
        // The old number of a merged ticket stands for the ticket it was merged into.
        if (ticket?.MergedIntoTicketId is { } mergedInto)
            ticket = await db.Tickets.FirstOrDefaultAsync(t => t.Id == mergedInto, ct);
        if (ticket is null)
            return TicketChangeResult.Missing;
        if (status is { } s && (!Enum.IsDefined(s) || s == TicketStatus.Merged))
            return TicketChangeResult.Invalid("Status must be Open, Pending or Resolved.");
        if (assigneeId is { Length: > 0 })
        {
            var active = await db.Users.AnyAsync(u => u.Id == assigneeId && u.IsActive, ct);
            if (!active)
                return TicketChangeResult.Invalid("There is no active user with that id to assign.");
        }
        var changed = false;
        Notification? assigned = null;
        var now = clock.GetUtcNow();
        if (status is { } newStatus && ticket.Status != newStatus)
        {
            db.TicketEvents.Add(new TicketEvent { TicketId = ticket.Id, Kind = TicketEventKind.StatusChanged, ActorUserId = actorUserId, At = now,
                Detail = $"changed the status from {ticket.Status} to {newStatus}" });
            ticket.Status = newStatus;
            changed = true;
        }
        if (assigneeId is not null)
        {
            var newAssignee = assigneeId.Length == 0 ? null : assigneeId;
            if (ticket.AssigneeId != newAssignee)
            {
                var named = await db.Users.AsNoTracking().Where(u => u.Id == (newAssignee ?? ticket.AssigneeId)).FirstOrDefaultAsync(ct);
                var name = named?.Name ?? "a former user";
                db.TicketEvents.Add(new TicketEvent { TicketId = ticket.Id, Kind = TicketEventKind.Assigned, ActorUserId = actorUserId, At = now,
                    Detail = newAssignee is null ? $"unassigned {name}" : newAssignee == actorUserId ? "assigned themselves" : $"assigned {name}" });
                ticket.AssigneeId = newAssignee;
                changed = true;
                if (newAssignee is not null && newAssignee != actorUserId)
                    assigned = await AssignedNotificationAsync(ticket, newAssignee, actorUserId, ct);
            }
        }
        if (changed)
        {
            if (assigned is not null)
                db.Notifications.Add(assigned);
            await db.SaveChangesAsync(ct);
            notifier.Publish(new ChangeEvent(ChangeKind.TicketUpdated, ticket.Id.ToString()));
            if (assigned is not null)
                notifications.Announce([assigned]);
        }
        return TicketChangeResult.Done;
    }

    /// <summary>
    /// Snoozes the ticket until <paramref name="until"/> (null ends the snooze now), recorded as an event in words with the
    /// time as the operator's zone <paramref name="zone"/> shows it (UTC when null). Snoozing again moves the time and
    /// forgets an earlier failed wake. The <see cref="ChangeKind.TicketUpdated"/> moves the ticket between the lists of
    /// every open inbox and tells <see cref="SnoozeWorker"/> to look at its next wake.
    /// </summary>
    public async Task<TicketChangeResult> SnoozeAsync(long ticketId, DateTimeOffset? until, string? actorUserId, TimeZoneInfo? zone = null,
        CancellationToken ct = default)
    {
        var ticket = await db.Tickets.FirstOrDefaultAsync(t => t.Id == ticketId, ct);
        if (ticket?.MergedIntoTicketId is { } mergedInto)
            ticket = await db.Tickets.FirstOrDefaultAsync(t => t.Id == mergedInto, ct);
        if (ticket is null)
            return TicketChangeResult.Missing;
        var now = clock.GetUtcNow();
        if (until is { } wake && SnoozePresets.Problem(wake, now) is { } problem)
            return TicketChangeResult.Invalid(problem);
        if (until is null && ticket.SnoozedUntil is null)
            return TicketChangeResult.Done;
        var shown = zone ?? TimeZoneInfo.Utc;
        var detail = until is { } at
            ? $"snoozed until {SnoozePresets.Describe(at, shown, now)} ({(shown == TimeZoneInfo.Utc ? "UTC" : shown.Id)})"
            : "ended the snooze";
        db.TicketEvents.Add(new TicketEvent { TicketId = ticket.Id, Kind = TicketEventKind.Snoozed, ActorUserId = actorUserId, At = now, Detail = detail });
        ticket.SnoozedUntil = until?.ToUniversalTime();
        ticket.SnoozeFailure = null;
        await db.SaveChangesAsync(ct);
        notifier.Publish(new ChangeEvent(ChangeKind.TicketUpdated, ticket.Id.ToString()));
        return TicketChangeResult.Done;
    }

    private async Task<Notification> AssignedNotificationAsync(Ticket ticket, string assigneeId, string? actorUserId, CancellationToken ct)
    {
        var actor = actorUserId is null ? null : await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == actorUserId, ct);
        var assignee = new NotificationUser(assigneeId, "", null, await notifications.SettingsAsync(assigneeId, ct));
        return NotificationRules.Create(assignee, NotificationKind.Assigned, ticket.Id,
            $"{actor?.Name ?? "Someone"} assigned #{ticket.Id} to you: {ticket.Subject}", clock.GetUtcNow());
    }

    /// <summary>Active users who can be assigned, by name.</summary>
    public async Task<IReadOnlyList<(string Id, string Name)>> AssignableAsync(CancellationToken ct = default)
    {
        var users = await db.Users.AsNoTracking().Where(u => u.IsActive).ToListAsync(ct);
        return users.OrderBy(u => u.Email, StringComparer.Ordinal).Select(u => (u.Id, u.Name)).ToList();
    }
}
