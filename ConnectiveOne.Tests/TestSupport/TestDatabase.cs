using System.Text;
using ConnectiveOne.Core;
using ConnectiveOne.Core.Persistence;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace ConnectiveOne.Tests.TestSupport;

/// <summary>
/// The database of one test app. SQLite (the default): the file in the app's data folder. PostgreSQL, when
/// <c>C1_TEST_DATABASE=postgres</c>: a fresh database <c>c1_&lt;random&gt;</c> on the server of the admin connection
/// string in <c>C1_TEST_POSTGRES</c>, dropped on dispose. Tests reach the database directly through it, whichever it is.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    /// <summary>True in the PostgreSQL pass (<c>C1_TEST_DATABASE=postgres</c>).</summary>
    public static bool IsPostgres { get; } =
        string.Equals(Environment.GetEnvironmentVariable("C1_TEST_DATABASE"), "postgres", StringComparison.OrdinalIgnoreCase);

    private static string AdminConnectionString => Environment.GetEnvironmentVariable("C1_TEST_POSTGRES") is { Length: > 0 } admin
        ? admin
        : throw new InvalidOperationException("C1_TEST_DATABASE=postgres needs C1_TEST_POSTGRES: an admin connection string of a running server.");

    private readonly string _dataDirectory;

    private TestDatabase(string dataDirectory, string? name, string? connectionString)
    {
        _dataDirectory = dataDirectory;
        Name = name;
        ConnectionString = connectionString;
    }

    /// <summary>The PostgreSQL database's name; null on SQLite.</summary>
    public string? Name { get; }

    /// <summary>The PostgreSQL connection string the app uses; null on SQLite.</summary>
    public string? ConnectionString { get; }

    /// <summary>The SQLite file (which exists once the app has started); on PostgreSQL there is none.</summary>
    public string SqliteFile => Path.Combine(_dataDirectory, "connectiveone.db");

    /// <summary>The app's <c>ConnectiveOne:Database:*</c> settings (none on SQLite: the default).</summary>
    public IReadOnlyDictionary<string, string?> Settings => IsPostgres
        ? new Dictionary<string, string?>
        {
            ["ConnectiveOne:Database:Provider"] = "Postgres",
            ["ConnectiveOne:Database:ConnectionString"] = ConnectionString,
        }
        : new Dictionary<string, string?>();

    /// <summary>
    /// A new database for an app whose data folder is <paramref name="dataDirectory"/>. <paramref name="migrated"/>: a
    /// copy of a database migrated once per test run (the app's start then finds nothing to apply), for in-process
    /// test apps; apps started as real processes migrate their own, as a first start does.
    /// </summary>
    public static TestDatabase Create(string dataDirectory, bool migrated = false)
    {
        DatabaseTraitGuardAttribute.ThrowIfUnused();
        if (!IsPostgres)
        {
            if (migrated)
                File.Copy(Template.Value, Path.Combine(dataDirectory, "connectiveone.db"));
            return new TestDatabase(dataDirectory, null, null);
        }
        var name = "c1_" + Guid.NewGuid().ToString("N");
        using (var admin = new NpgsqlConnection(AdminConnectionString))
        {
            admin.Open();
            // A copy of the template is a file copy on the server; no session may be connected to the template meanwhile.
            using var create = new NpgsqlCommand(migrated ? $"CREATE DATABASE \"{name}\" TEMPLATE \"{Template.Value}\"" : $"CREATE DATABASE \"{name}\"", admin);
            create.ExecuteNonQuery();
        }
        var connection = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
        return new TestDatabase(dataDirectory, name, connection);
    }

    // Migrating an empty database builds the model of every migration: once per run instead of once per test app. The
    // SQLite file's path, or the PostgreSQL database's name; removed when the test process ends.
    private static readonly Lazy<string> Template = new(CreateTemplate, LazyThreadSafetyMode.ExecutionAndPublication);

    private static string CreateTemplate()
    {
        var folder = Path.Combine(Path.GetTempPath(), "c1-tests", "template-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var template = Create(folder);
        // Unpooled: no session may stay connected to a PostgreSQL template.
        var migrating = IsPostgres
            ? new TestDatabase(folder, template.Name, new NpgsqlConnectionStringBuilder(template.ConnectionString) { Pooling = false }.ConnectionString)
            : template;
        using (var db = migrating.OpenContext())
        {
            db.Database.Migrate();
            // Rollback journal: the file alone is the whole database (the app turns WAL on when it starts).
            if (!IsPostgres)
                db.Database.ExecuteSqlRaw("PRAGMA journal_mode=DELETE;");
        }
        template.ClearPool();
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                template.DisposeAsync().AsTask().GetAwaiter().GetResult();
                Directory.Delete(folder, recursive: true);
            }
            catch (Exception e) when (e is IOException or NpgsqlException)
            {
                // Best effort: a throw-away server or temp folder goes anyway.
            }
        };
        return IsPostgres ? template.Name! : template.SqliteFile;
    }

    /// <summary>A context on this database outside any app (for an app in another process, or after it stopped).</summary>
    public AppDbContext OpenContext() => new(Configure(new DbContextOptionsBuilder<AppDbContext>()).Options);

    /// <summary>Points <paramref name="db"/> at this database as the app does (e.g. for a context with test interceptors).</summary>
    public TBuilder Configure<TBuilder>(TBuilder db) where TBuilder : DbContextOptionsBuilder
    {
        var options = new ConnectiveOneOptions { DataDirectory = _dataDirectory };
        if (IsPostgres)
            options.Database = new DatabaseOptions { Provider = DatabaseProvider.Postgres, ConnectionString = ConnectionString };
        return db.UseConfiguredDatabase(options);
    }

    /// <summary>Runs SQL on this database from a connection of its own (not the app's pool).</summary>
    public async Task ExecuteAsync(string sql)
    {
        await using var db = OpenContext();
        await db.Database.ExecuteSqlRawAsync(sql);
    }

    /// <summary>Runs SQL on the PostgreSQL server as the admin (on the maintenance database), e.g. to cut this database off.</summary>
    public async Task AdminAsync(string sql)
    {
        await using var admin = new NpgsqlConnection(AdminConnectionString + ";Pooling=false");
        await admin.OpenAsync();
        await using var command = new NpgsqlCommand(sql, admin);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>On PostgreSQL, whether a session on this database is waiting for a row or table lock now.</summary>
    public async Task<bool> SomeoneWaitsForALockAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString ?? throw new InvalidOperationException("Only PostgreSQL has lock waits to see."));
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()", connection);
        return (long)(await query.ExecuteScalarAsync())! > 0;
    }

    /// <summary>
    /// Everything the database holds, as text, to search for secrets: the SQLite file and its WAL as bytes; on
    /// PostgreSQL every row of every table of ours.
    /// </summary>
    public async Task<byte[]> ContentAsync()
    {
        if (!IsPostgres)
            return [.. ReadShared(SqliteFile), .. ReadShared(SqliteFile + "-wal")];
        var text = new StringBuilder();
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        // Printable bytes of bytea columns (raw mail) as they are, so a plaintext in them is found too.
        await using (var escape = new NpgsqlCommand("SET bytea_output = 'escape'", connection))
            await escape.ExecuteNonQueryAsync();
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", connection))
        await using (var reader = await list.ExecuteReaderAsync())
            while (await reader.ReadAsync())
                tables.Add(reader.GetString(0));
        foreach (var table in tables)
        {
            await using var rows = new NpgsqlCommand($"SELECT t::text FROM \"{table}\" t", connection);
            await using var reader = await rows.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                text.AppendLine(reader.GetString(0));
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>SQLite's <c>PRAGMA integrity_check</c> ("ok"); PostgreSQL's storage is the server's business: "ok".</summary>
    public async Task<string> IntegrityCheckAsync()
    {
        if (IsPostgres)
            return "ok";
        await using var db = new SqliteConnection($"Data Source={SqliteFile};Pooling=False");
        await db.OpenAsync();
        await using var command = db.CreateCommand();
        command.CommandText = "PRAGMA integrity_check";
        return (string)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Closes the idle pooled connections to this database, so the next command opens a new one.</summary>
    public void ClearPool()
    {
        if (IsPostgres)
            NpgsqlConnection.ClearPool(new NpgsqlConnection(ConnectionString));
        else
            SqliteConnection.ClearAllPools();
    }

    public async ValueTask DisposeAsync()
    {
        ClearPool();
        if (Name is null)
            return;
        await using var admin = new NpgsqlConnection(AdminConnectionString);
        await admin.OpenAsync();
        // FORCE: a test that stops its app abruptly may leave connections behind.
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }

    private static byte[] ReadShared(string path)
    {
        if (!File.Exists(path))
            return [];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }
}
