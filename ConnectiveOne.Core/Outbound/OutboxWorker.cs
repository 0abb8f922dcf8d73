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
internal sealed class OutboxWorker(IServiceScopeFactory scopes, OutboxSignal signal, RelayClient relay,
    IOptionsMonitor<ConnectiveOneOptions> options, TimeProvider clock, ILogger<OutboxWorker> logger) : BackgroundService
{
    private const int BatchSize = 20;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!relay.IsConfigured)
            logger.LogWarning("{Reason}. Replies and forwarding tests wait in the outbox.", RelayClient.NotConfiguredMessage);
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

    /// <summary>Sends everything due and returns how long to sleep until the next due mail (at most the poll interval).</summary>
    private async Task<TimeSpan> DrainAsync(CancellationToken ct)
    {
        var poll = options.CurrentValue.Outbound.PollInterval;
        if (!relay.IsConfigured)
            return poll;
        while (true)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var now = clock.GetUtcNow();
            var due = await db.Outbox
                .Where(m => m.State == DeliveryState.Queued && m.NextAttemptAt != null && m.NextAttemptAt <= now)
                .OrderBy(m => m.NextAttemptAt).Take(BatchSize).ToListAsync(ct);
            if (due.Count == 0)
            {
                var next = await db.Outbox.Where(m => m.State == DeliveryState.Queued && m.NextAttemptAt != null)
                    .MinAsync(m => m.NextAttemptAt, ct);
                var untilNext = next is null ? poll : next.Value - clock.GetUtcNow();
                return untilNext < TimeSpan.Zero ? TimeSpan.Zero : untilNext < poll ? untilNext : poll;
            }
            var delivery = scope.ServiceProvider.GetRequiredService<OutboxDelivery>();
            foreach (var mail in due)
                await delivery.DeliverAsync(mail, ct);
        }
    }
}
