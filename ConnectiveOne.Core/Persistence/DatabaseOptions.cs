namespace ConnectiveOne.Core.Persistence;

/// <summary>Which database engine holds the data.</summary>
public enum DatabaseProvider
{
    /// <summary>One file, <c>&lt;DataDirectory&gt;/connectiveone.db</c>: one node.</summary>
    Sqlite,

    /// <summary>A PostgreSQL server named by <see cref="DatabaseOptions.ConnectionString"/>: one node or several.</summary>
    Postgres,
}

/// <summary>The <c>ConnectiveOne:Database</c> section.</summary>
public sealed class DatabaseOptions
{
    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>An Npgsql connection string; required for Postgres. SQLite ignores it (the file is in the data folder).</summary>
    public string? ConnectionString { get; set; }

    internal const string MissingConnectionString =
        "ConnectiveOne:Database:Provider is Postgres but ConnectiveOne:Database:ConnectionString is empty: set it to the "
        + "PostgreSQL server, e.g. \"Host=db.example.net;Database=connectiveone;Username=connectiveone;Password=...\".";

    internal const string StrayConnectionString =
        "ConnectiveOne:Database:ConnectionString is set but ConnectiveOne:Database:Provider is Sqlite, which keeps its file in "
        + "the data folder: set Provider to Postgres, or remove the connection string.";

    internal bool HasConnectionString => !string.IsNullOrWhiteSpace(ConnectionString);
}
