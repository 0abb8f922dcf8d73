using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ConnectiveOne.Core.Persistence;

/// <summary>
/// Applies migrations before anything else starts (it is registered first). On SQLite it puts the database in WAL
/// mode and reads the pragmas back into the log, so a durability setting that did not take is visible; on PostgreSQL
/// it logs the server version. Several nodes may start at once on one PostgreSQL: EF's migration lock (a lock on the
/// history table, held in the migrations' transaction) lets one apply them while the others wait and then find
/// nothing left to do.
/// </summary>
internal sealed class DatabaseMigrator(IServiceScopeFactory scopes, ILogger<DatabaseMigrator> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await db.Database.MigrateAsync(cancellationToken);

        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = connection.CreateCommand();
            if (db.Database.IsNpgsql())
            {
                command.CommandText = "SHOW server_version;";
                logger.LogInformation("Database {Database} on PostgreSQL {ServerVersion} ready",
                    connection.Database, (string?)await command.ExecuteScalarAsync(cancellationToken));
                return;
            }

            command.CommandText = "PRAGMA journal_mode=WAL;";
            var journal = (string?)await command.ExecuteScalarAsync(cancellationToken);
            command.CommandText = "PRAGMA synchronous;";
            var synchronous = Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken));
            // 2 = FULL: a committed transaction survives power loss.
            logger.LogInformation("Database {DataSource} ready: journal_mode={JournalMode}, synchronous={Synchronous}",
                connection.DataSource, journal, synchronous == 2 ? "FULL" : synchronous.ToString());
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
