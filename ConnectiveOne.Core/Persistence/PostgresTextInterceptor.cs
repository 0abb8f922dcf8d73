using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace ConnectiveOne.Core.Persistence;

/// <summary>
/// PostgreSQL text cannot hold U+0000 (SQLite's can), and hostile or broken mail carries it in subjects, names and
/// bodies: the server would refuse the whole batch, and the sender would retry for ever. Every string parameter (and
/// string array, as in <c>IN</c> lists) has U+0000 replaced by U+FFFD, so writes succeed and lookups by the same
/// value still match what was stored.
/// </summary>
internal sealed class PostgresTextInterceptor : DbCommandInterceptor
{
    private const char Nul = '\0', Replacement = '\uFFFD';

    public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData,
        InterceptionResult<DbDataReader> result) => Clean(command, result);

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default) => ValueTask.FromResult(Clean(command, result));

    public override InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result) =>
        Clean(command, result);

    public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<int> result, CancellationToken cancellationToken = default) => ValueTask.FromResult(Clean(command, result));

    public override InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<object> result) =>
        Clean(command, result);

    public override ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<object> result, CancellationToken cancellationToken = default) => ValueTask.FromResult(Clean(command, result));

    private static T Clean<T>(DbCommand command, T result)
    {
        CleanParameters(command);
        return result;
    }

    /// <summary>Replaces U+0000 in a command's text parameters; for commands EF does not run (the intake writer's).</summary>
    internal static void CleanParameters(DbCommand command)
    {
        if (command.Connection is not Npgsql.NpgsqlConnection)
            return;
        foreach (DbParameter parameter in command.Parameters)
        {
            switch (parameter.Value)
            {
                case string text when text.Contains(Nul):
                    parameter.Value = text.Replace(Nul, Replacement);
                    break;
                case IEnumerable<string?> texts when texts.Any(t => t is not null && t.Contains(Nul)):
                    parameter.Value = texts.Select(t => t?.Replace(Nul, Replacement)).ToArray();
                    break;
            }
        }
    }
}
