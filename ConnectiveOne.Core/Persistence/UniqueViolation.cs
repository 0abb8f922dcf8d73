using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace ConnectiveOne.Core.Persistence;

/// <summary>Tells a unique index refusing a write from other database errors, on either provider.</summary>
public static class UniqueViolation
{
    private const int SqliteConstraintUnique = 2067, SqliteConstraintPrimaryKey = 1555; // extended result codes

    /// <summary>True when a unique index or key refused the write (SQLite: SQLITE_CONSTRAINT_UNIQUE or _PRIMARYKEY; PostgreSQL: SQLSTATE 23505).</summary>
    public static bool IsUniqueViolation(this DbUpdateException exception) => exception.InnerException switch
    {
        SqliteException sqlite => sqlite.SqliteExtendedErrorCode is SqliteConstraintUnique or SqliteConstraintPrimaryKey,
        PostgresException postgres => postgres.SqlState == PostgresErrorCodes.UniqueViolation,
        _ => false,
    };
}
