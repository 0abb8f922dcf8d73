namespace ConnectiveOne.Tests.TestSupport;

/// <summary>
/// A test only meaningful on SQLite (the file itself: WAL, file modes): skipped in the PostgreSQL pass. Pair it with
/// <c>[Trait("Database", "Sqlite")]</c>, which <c>./test.sh</c> filters on, and say why in one line.
/// </summary>
public sealed class SqliteFactAttribute : FactAttribute
{
    public SqliteFactAttribute()
    {
        if (TestDatabase.IsPostgres)
            Skip = "SQLite only (this pass runs on PostgreSQL)";
    }
}

/// <summary>A test only meaningful on PostgreSQL: skipped in the SQLite pass. Pair it with <c>[Trait("Database", "Postgres")]</c>.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (!TestDatabase.IsPostgres)
            Skip = "PostgreSQL only (C1_TEST_DATABASE=postgres)";
    }
}
