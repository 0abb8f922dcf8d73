using ConnectiveOne.Core.Search;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Core.Persistence;

/// <summary>
/// Applies migrations before anything else starts (it is registered first). On SQLite it puts the database in WAL
/// mode and reads the pragmas back into the log, so a durability setting that did not take is visible; on PostgreSQL
/// it logs the server version. Several nodes may start at once on one PostgreSQL: a session advisory lock lets one
/// apply the migrations while the others wait and then find nothing left to do. (EF's own lock on the history table
/// was not enough: with two pending migrations, a second node applied the second one again.) Then it creates the
/// search index (outside EF's model) and builds it when it is new, unfinished or of another version.
/// </summary>
internal sealed class DatabaseMigrator(IServiceScopeFactory scopes, ILogger<DatabaseMigrator> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => MigrateAsync(rebuildSearchIndex: false, cancellationToken);

    /// <summary>Migrates and prepares the search index; <paramref name="rebuildSearchIndex"/> rebuilds it even when it is current.</summary>
    public async Task MigrateAsync(bool rebuildSearchIndex, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var language = scope.ServiceProvider.GetRequiredService<IOptions<ConnectiveOneOptions>>().Value.Search.Language;
        if (db.Database.IsNpgsql())
        {
            await MigrateOneNodeAtATimeAsync(db, () => PrepareSearchIndexAsync(db, language, rebuildSearchIndex, cancellationToken), cancellationToken);
        }
        else
        {
            await db.Database.MigrateAsync(cancellationToken);
            await PrepareSearchIndexAsync(db, language, rebuildSearchIndex, cancellationToken);
        }

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

    // The search index's tables, and its build when needed (the reindex command forces one).
    private async Task PrepareSearchIndexAsync(AppDbContext db, string language, bool rebuild, CancellationToken cancellationToken)
    {
        if (await SearchIndex.EnsureSchemaAsync(db, language, cancellationToken) || rebuild)
            await SearchIndex.RebuildAsync(db, language, logger, cancellationToken);
    }

    private static async Task MigrateOneNodeAtATimeAsync(AppDbContext db, Func<Task> thenUnderTheLock, CancellationToken cancellationToken)
    {
        // Its own unpooled connection: a session lock must not stay behind on a pooled connection.
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(db.Database.GetConnectionString()) { Pooling = false };
        await using var connection = new Npgsql.NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT pg_advisory_lock(hashtext('connectiveone:migrations'))";
        await command.ExecuteNonQueryAsync(cancellationToken);
        await db.Database.MigrateAsync(cancellationToken);
        await thenUnderTheLock();
        command.CommandText = "SELECT pg_advisory_unlock(hashtext('connectiveone:migrations'))";
        await command.ExecuteNonQueryAsync(CancellationToken.None);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
