using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Nodes;
using ConnectiveOne.Core.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Core.Dns;

/// <summary>
/// Re-checks due domains (<see cref="MailDomain.NextCheckAt"/>) in the background: batches loaded from the database,
/// checked with bounded parallelism, saved in one transaction per batch; each status change is announced.
/// </summary>
public sealed class DomainRecheckWorker(
    IServiceScopeFactory scopes,
    DnsVerifier verifier,
    NodeIdentity node,
    ChangeNotifier notifier,
    IOptions<ConnectiveOneOptions> options,
    TimeProvider time,
    ILogger<DomainRecheckWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await WorkLeases.TakeBackLeftOverAsync<MailDomain>(scopes, node, options.Value, logger, "DNS re-checks", stoppingToken);
        using var timer = new PeriodicTimer(options.Value.Dns.Recheck.PollInterval, time);
        do
        {
            try
            {
                await CheckDueAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A database hiccup must not end the re-checks for good; the next tick tries again.
                logger.LogError(ex, "The background DNS re-check failed; retrying at the next interval");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Checks every domain that is due now, batch by batch. Returns how many were checked.</summary>
    public async Task<int> CheckDueAsync(CancellationToken cancellationToken)
    {
        var schedule = options.Value.Dns.Recheck;
        var spfInclude = options.Value.Outbound.SpfInclude;
        var total = 0;
        while (true)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            // Claimed with a lease, so several nodes never check the same domain; a dead node's claims run out.
            var batch = await WorkLeases.ClaimAsync<MailDomain>(db, nameof(MailDomain.NextCheckAt), [], node.Instance,
                time.GetUtcNow(), options.Value.WorkLease, schedule.BatchSize, cancellationToken);
            if (batch.Count == 0)
                return total;
            var names = batch.Select(d => d.Name).ToList();
            await db.DkimKeys.Where(k => names.Contains(k.DomainName)).LoadAsync(cancellationToken);

            var results = new (DomainCheckResult? Result, string? Error)[batch.Count];
            await Parallel.ForEachAsync(
                Enumerable.Range(0, batch.Count),
                new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, schedule.Parallelism), CancellationToken = cancellationToken },
                async (i, ct) => results[i] = await CheckOneAsync(batch[i], spfInclude, ct));

            var now = time.GetUtcNow();
            var changed = new List<MailDomain>();
            for (var i = 0; i < batch.Count; i++)
            {
                var (result, error) = results[i];
                try
                {
                    if (result is not null && DomainCheckOutcome.Apply(batch[i], result, now, schedule))
                        changed.Add(batch[i]);
                }
                catch (Exception ex)
                {
                    logger.LogWarning(ex, "Recording the check of domain {Domain} failed; trying again soon", batch[i].Name);
                    error = $"{ex.GetType().Name}: {ex.Message}";
                }
                if (error is not null)
                    DomainCheckOutcome.RecordFailure(batch[i], error, now, schedule);
                WorkLeases.Release(batch[i]);
            }

            await db.SaveChangesAsync(cancellationToken);
            foreach (var domain in changed)
                MailDomains.Announce(notifier, logger, domain);
            total += batch.Count;
        }
    }

    /// <summary>The check, or why it could not be done: one domain failing (even with a timeout of its own) is its own failure.</summary>
    private async Task<(DomainCheckResult? Result, string? Error)> CheckOneAsync(MailDomain domain, string spfInclude,
        CancellationToken cancellationToken)
    {
        try
        {
            return (await verifier.CheckAsync(DomainCheckOutcome.SettingsOf(domain, spfInclude), cancellationToken), null);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Checking domain {Domain} failed; trying again soon", domain.Name);
            return (null, $"{ex.GetType().Name}: {ex.Message}");
        }
    }
}
