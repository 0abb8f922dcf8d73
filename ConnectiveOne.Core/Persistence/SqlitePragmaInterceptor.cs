using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace ConnectiveOne.Core.Persistence;

/// <summary>
/// Sets the per-connection pragmas on every pooled connection: <c>synchronous=FULL</c> is what makes
/// "250 only after commit" survive a power loss in WAL mode, and a busy timeout lets writers queue
/// instead of failing at once.
/// </summary>
internal sealed class SqlitePragmaInterceptor : DbConnectionInterceptor
{
    /// <summary>Past this many WAL pages a committing connection checkpoints itself; <see cref="SqliteCheckpointer"/> normally has already.</summary>
    internal const int AutoCheckpointPages = 10_000;

    internal static readonly string Pragmas =
        $"PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON; PRAGMA wal_autocheckpoint={AutoCheckpointPages};";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData,
        CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
