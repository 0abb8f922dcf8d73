using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace ConnectiveOne.Core.Persistence;

/// <summary>Points an <see cref="AppDbContext"/> at the configured database: SQLite in the data folder or PostgreSQL.</summary>
public static class DatabaseConfiguration
{
    /// <summary>The assembly holding the PostgreSQL migrations; SQLite's stay in Core (EF: one migrations set per provider).</summary>
    public const string PostgresMigrationsAssembly = "ConnectiveOne.Migrations.Postgres";

    public static TBuilder UseConfiguredDatabase<TBuilder>(this TBuilder db, ConnectiveOneOptions options) where TBuilder : DbContextOptionsBuilder
    {
        if (options.Database.Provider == DatabaseProvider.Postgres)
        {
            db.UseNpgsql(PostgresConnectionString(options), npgsql => npgsql.MigrationsAssembly(PostgresMigrationsAssembly))
                .AddInterceptors(new PostgresTextInterceptor());
            return db;
        }

        Directory.CreateDirectory(options.DataPath);
        var connection = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(options.DataPath, "connectiveone.db"),
            Pooling = true,
            DefaultTimeout = options.DatabaseTimeoutSeconds,
        };
        db.UseSqlite(connection.ToString()).AddInterceptors(new SqlitePragmaInterceptor());
        return db;
    }

    /// <summary>
    /// The configured connection string with <c>DatabaseTimeoutSeconds</c> as the command timeout (a command waiting on a
    /// lock fails after it, as on SQLite, and inbound mail gets 451) unless the string sets its own.
    /// </summary>
    public static string PostgresConnectionString(ConnectiveOneOptions options)
    {
        // NpgsqlConnectionStringBuilder.ContainsKey answers whether a keyword is known, not whether it is set.
        var given = new DbConnectionStringBuilder { ConnectionString = options.Database.ConnectionString };
        if (given.ContainsKey("Command Timeout") || given.ContainsKey("CommandTimeout"))
            return options.Database.ConnectionString!;
        return new NpgsqlConnectionStringBuilder(options.Database.ConnectionString) { CommandTimeout = options.DatabaseTimeoutSeconds }
            .ConnectionString;
    }
}
