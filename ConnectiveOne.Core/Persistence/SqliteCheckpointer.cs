using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ConnectiveOne.Core.Persistence;

/// <summary>
/// Copies the SQLite write-ahead log into the database file in the background, a few times a second. Left to SQLite,
/// the commit that fills the log to 1,000 pages does the checkpoint itself (copy plus fsync of the database file), and
/// the inbound mail waiting on that commit waits for it too. Connections now check-point on their own only past
/// <see cref="SqlitePragmaInterceptor.AutoCheckpointPages"/> pages, a safety net should this service fall behind.
/// PASSIVE never blocks writers or readers. Does nothing on PostgreSQL.
/// </summary>
internal sealed class SqliteCheckpointer(IServiceScopeFactory scopes, ILogger<SqliteCheckpointer> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        if (!db.Database.IsSqlite())
            return;
        using var timer = new PeriodicTimer(Interval);
        while (await WaitAsync(timer, stoppingToken))
        {
            try
            {
                await db.Database.ExecuteSqlRawAsync("PRAGMA wal_checkpoint(PASSIVE);", stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A locked or unwritable database is reported where mail is refused; here it only means "later".
                logger.LogDebug(e, "WAL checkpoint skipped");
            }
        }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
