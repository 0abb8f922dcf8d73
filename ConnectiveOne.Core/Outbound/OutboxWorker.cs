using ConnectiveOne.Core.Nodes;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Tickets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Core.Outbound;

/// <summary>Wakes the outbox worker when new mail is queued, instead of leaving it to the next poll.</summary>
public sealed class OutboxSignal
{
    private readonly SemaphoreSlim _wake = new(0, 1);

    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already woken; one wake-up drains everything due.
        }
    }

    internal Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _wake.WaitAsync(timeout, ct);
}

/// <summary>
/// Sends due outbox mail (queued, next attempt reached) one by one. The only place that sends queued mail;
/// it sends nothing on its own initiative, only what a person queued (replies, forwarding tests).
/// </summary>
internal sealed class OutboxWorker(IServiceScopeFactory scopes, OutboxSignal signal, RelayClient relay, NodeIdentity node,
    IOptionsMonitor<ConnectiveOneOptions> options, TimeProvider clock, ILogger<OutboxWorker> logger) : BackgroundService
{
    private const int BatchSize = 20;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!relay.IsConfigured)
            logger.LogWarning("{Reason}. Replies and forwarding tests wait in the outbox.", RelayClient.NotConfiguredMessage);
        await WorkLeases.TakeBackLeftOverAsync<OutboundMail>(scopes, node, options.CurrentValue, logger, "outbox mails", stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                wait = await DrainAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                logger.LogError(e, "The outbox could not be processed; trying again later");
                wait = options.CurrentValue.Outbound.PollInterval;
            }
            try
            {
                await signal.WaitAsync(wait, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Sends everything due and returns how long to sleep until the next due mail (at most the poll interval). Mail is
    /// claimed with a lease first, so with several nodes each mail is sent by one of them; a dead node's claims run
    /// out after <see cref="ConnectiveOneOptions.WorkLease"/> and another node sends them.
    /// </summary>
    private async Task<TimeSpan> DrainAsync(CancellationToken ct)
    {
        var settings = options.CurrentValue;
        var poll = settings.Outbound.PollInterval;
        if (!relay.IsConfigured)
            return poll;
        // One delivery is a few commands towards the relay, each within the timeout.
        var oneDelivery = 2 * settings.Outbound.Timeout;
        while (true)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var now = clock.GetUtcNow();
            var due = await WorkLeases.ClaimAsync<OutboundMail>(db, nameof(OutboundMail.NextAttemptAt),
                [(nameof(OutboundMail.State), DeliveryState.Queued.ToString())], node.Instance, now, settings.WorkLease, BatchSize, ct);
            if (due.Count == 0)
                return await UntilNextAsync(db, poll, ct);
            var delivery = scope.ServiceProvider.GetRequiredService<OutboxDelivery>();
            foreach (var mail in due)
            {
                // The rest of the batch is claimed again (renewed) by the next round rather than sent on a lease
                // that could run out mid-send and let another node send it too.
                if (!WorkLeases.HasTimeFor(mail, clock.GetUtcNow(), oneDelivery))
                    break;
                await DeliverOneAsync(db, delivery, mail, ct);
            }
        }
    }

    /// <summary>
    /// One mail; if it fails in a way the delivery did not foresee, it is recorded Failed with the reason so the next
    /// round does not claim it first again (one such mail used to stop every reply, test and forwarding test after it).
    /// Only a failure to record that, i.e. the database itself, stops this round.
    /// </summary>
    private async Task DeliverOneAsync(AppDbContext db, OutboxDelivery delivery, OutboundMail mail, CancellationToken ct)
    {
        try
        {
            await delivery.DeliverAsync(mail, ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            logger.LogError(e, "Outbound {Kind} mail {MailId} could not be processed; it is marked Failed", mail.Kind, mail.Id);
            // What this mail left unsaved must not ride along with the next mail's save (and fail it too).
            foreach (var entry in db.ChangeTracker.Entries().Where(entry => entry.State != EntityState.Unchanged).ToList())
                entry.State = EntityState.Detached;
            await using var scope = scopes.CreateAsyncScope();
            await OutboxDelivery.RecordFailureAsync(scope.ServiceProvider.GetRequiredService<AppDbContext>(), mail.Id,
                mail.TicketMessageId, e, ct);
        }
    }

    /// <summary>Until the next mail is due or another node's claim on due mail runs out, at most <paramref name="poll"/>.</summary>
    private async Task<TimeSpan> UntilNextAsync(AppDbContext db, TimeSpan poll, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var queued = db.Outbox.Where(m => m.State == DeliveryState.Queued && m.NextAttemptAt != null);
        var nextDue = await queued.Where(m => m.LeaseExpiresAt == null || m.LeaseExpiresAt <= now)
            .MinAsync(m => m.NextAttemptAt, ct);
        var nextLeaseEnd = await queued.Where(m => m.NextAttemptAt <= now && m.LeaseExpiresAt > now)
            .MinAsync(m => m.LeaseExpiresAt, ct);
        var next = new[] { nextDue, nextLeaseEnd }.Where(t => t is not null).Min();
        var untilNext = next is null ? poll : next.Value - now;
        return untilNext < TimeSpan.Zero ? TimeSpan.Zero : untilNext < poll ? untilNext : poll;
    }
}
