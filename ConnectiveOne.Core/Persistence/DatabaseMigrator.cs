using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ConnectiveOne.Core.Persistence;

/// <summary>
/// Applies migrations before anything else starts (it is registered first). On SQLite it puts the database in WAL
/// mode and reads the pragmas back into the log, so a durability setting that did not take is visible; on PostgreSQL
/// it logs the server version. Several nodes may start at once on one PostgreSQL: a session advisory lock lets one
/// apply the migrations while the others wait and then find nothing left to do. (EF's own lock on the history table
/// was not enough: with two pending migrations, a second node applied the second one again.)
/// </summary>
internal sealed class DatabaseMigrator(IServiceScopeFactory scopes, ILogger<DatabaseMigrator> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        if (db.Database.IsNpgsql())
            await MigrateOneNodeAtATimeAsync(db, cancellationToken);
        else
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

    private static async Task MigrateOneNodeAtATimeAsync(AppDbContext db, CancellationToken cancellationToken)
    {
        // Its own unpooled connection: a session lock must not stay behind on a pooled connection.
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(db.Database.GetConnectionString()) { Pooling = false };
        await using var connection = new Npgsql.NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT pg_advisory_lock(hashtext('connectiveone:migrations'))";
        await command.ExecuteNonQueryAsync(cancellationToken);
        await db.Database.MigrateAsync(cancellationToken);
        command.CommandText = "SELECT pg_advisory_unlock(hashtext('connectiveone:migrations'))";
        await command.ExecuteNonQueryAsync(CancellationToken.None);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
