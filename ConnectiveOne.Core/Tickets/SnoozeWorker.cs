using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Notifications;
using ConnectiveOne.Core.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Core.Tickets;

/// <summary>
/// Opens snoozed tickets again when their time comes: status Open, a "snooze ended" event in the thread, a
/// <see cref="NotificationKind.SnoozeEnded"/> notification for the assignee. Durable because the time is the ticket's own
/// column: after a restart the first round wakes whatever came due meanwhile. Each ticket wakes in its own transaction,
/// claimed by clearing the very time it read (so two nodes, or an operator changing the snooze at that moment, never wake
/// it twice); a ticket that fails is recorded as failed in words (<see cref="Ticket.SnoozeFailure"/>) and the others go on.
/// Sleeps until the next wake or <see cref="TicketOptions.SnoozeCheckInterval"/>, whichever is sooner; every
/// <see cref="ChangeKind.TicketUpdated"/> (a snooze set here or on another node) makes it look again.
/// </summary>
public sealed class SnoozeWorker(IServiceScopeFactory scopes, ChangeNotifier notifier, IOptions<ConnectiveOneOptions> options, TimeProvider clock,
    ILogger<SnoozeWorker> logger) : BackgroundService
{
    private const int BatchSize = 50;
    private readonly SemaphoreSlim _wake = new(0, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var subscription = notifier.Subscribe(change =>
        {
            if (change.Kind == ChangeKind.TicketUpdated && _wake.CurrentCount == 0)
                try { _wake.Release(); } catch (SemaphoreFullException) { /* already woken */ }
        });
        var interval = options.Value.Tickets.SnoozeCheckInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            var sleep = interval;
            try
            {
                while (await WakeDueAsync(stoppingToken) == BatchSize) { }
                if (await NextWakeAsync(stoppingToken) is { } next)
                    sleep = TimeSpan.FromTicks(Math.Clamp((next - clock.GetUtcNow()).Ticks, TimeSpan.TicksPerMillisecond * 10, interval.Ticks));
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                logger.LogError(e, "Snoozed tickets could not be checked; trying again in {Interval}", interval);
            }
            try
            {
                await _wake.WaitAsync(sleep, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Wakes up to <see cref="BatchSize"/> tickets whose snooze is due; returns how many it looked at.</summary>
    public async Task<int> WakeDueAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        List<(long Id, DateTimeOffset Until)> due;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var rows = await db.Tickets.AsNoTracking().Where(t => t.SnoozedUntil != null && t.SnoozedUntil <= now && t.SnoozeFailure == null)
                .OrderBy(t => t.SnoozedUntil).Take(BatchSize).Select(t => new { t.Id, t.SnoozedUntil }).ToListAsync(ct);
            due = rows.Select(r => (r.Id, r.SnoozedUntil!.Value)).ToList();
        }
        foreach (var (id, until) in due)
        {
            try
            {
                await WakeOneAsync(id, until, now, ct);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                logger.LogError(e, "Ticket {TicketId} could not be woken from its snooze; it is marked as failed", id);
                // The innermost words say what went wrong (EF's own only say to look inside).
                var failure = $"It could not be opened again at its snooze time: {e.GetBaseException().Message}";
                await RecordFailureAsync(id, until, failure.Length <= 500 ? failure : failure[..499] + "…", ct);
            }
        }
        return due.Count;
    }

    /// <summary>The earliest snooze still to wake, if any.</summary>
    private async Task<DateTimeOffset?> NextWakeAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        return await db.Tickets.AsNoTracking().Where(t => t.SnoozedUntil != null && t.SnoozeFailure == null)
            .OrderBy(t => t.SnoozedUntil).Select(t => t.SnoozedUntil).FirstOrDefaultAsync(ct);
    }

    private async Task WakeOneAsync(long ticketId, DateTimeOffset until, DateTimeOffset now, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var center = scope.ServiceProvider.GetRequiredService<NotificationCenter>();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var ticket = await db.Tickets.FirstOrDefaultAsync(t => t.Id == ticketId, ct);
        if (ticket is null || ticket.SnoozedUntil != until)
            return; // changed meanwhile: the next round reads the new time
        // The claim: only the node (or round) whose update still finds this time goes on.
        var claimed = await db.Tickets.Where(t => t.Id == ticketId && t.SnoozedUntil == until)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.SnoozedUntil, (DateTimeOffset?)null)
                .SetProperty(t => t.Status, t => t.Status == TicketStatus.Merged ? TicketStatus.Merged : TicketStatus.Open), ct);
        if (claimed == 0)
            return;
        Notification? told = null;
        if (ticket.Status != TicketStatus.Merged)
        {
            var reopened = ticket.Status == TicketStatus.Open ? "" : $" (it was {ticket.Status})";
            db.TicketEvents.Add(new TicketEvent
            {
                TicketId = ticketId, Kind = TicketEventKind.SnoozeEnded, At = now, Detail = $"snooze ended: the ticket is open again{reopened}",
            });
            if (ticket.AssigneeId is { } assigneeId && await db.Users.AnyAsync(u => u.Id == assigneeId && u.IsActive, ct))
            {
                var assignee = new NotificationUser(assigneeId, "", null, await center.SettingsAsync(assigneeId, ct));
                told = NotificationRules.Create(assignee, NotificationKind.SnoozeEnded, ticketId, $"#{ticketId} is back from snooze: {ticket.Subject}", now);
                db.Notifications.Add(told);
            }
            await db.SaveChangesAsync(ct);
        }
        await transaction.CommitAsync(ct);
        logger.LogInformation("Ticket {TicketId} woke from its snooze (due {SnoozedUntil})", ticketId, until);
        notifier.Publish(new ChangeEvent(ChangeKind.TicketUpdated, ticketId.ToString(), "Snooze ended"));
        if (told is not null)
            center.Announce([told]);
    }

    // In a fresh context: the failed one may hold the half-done work of the transaction that was rolled back.
    private async Task RecordFailureAsync(long ticketId, DateTimeOffset until, string failure, CancellationToken ct)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var marked = await db.Tickets.Where(t => t.Id == ticketId && t.SnoozedUntil == until)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.SnoozeFailure, failure), ct);
            if (marked > 0)
                notifier.Publish(new ChangeEvent(ChangeKind.TicketUpdated, ticketId.ToString(), "Snooze failed"));
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            // The next round tries the ticket again (and records it then, if the database answers).
            logger.LogError(e, "The failed wake of ticket {TicketId} could not be recorded", ticketId);
        }
    }
}
