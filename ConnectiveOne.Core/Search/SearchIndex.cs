using System.Data.Common;
using System.Globalization;
using System.Text;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Tickets;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Logging;

namespace ConnectiveOne.Core.Search;

/// <summary>A message that matched, with its relevance: lower is better on both providers.</summary>
public sealed class SearchHit
{
    public long MessageId { get; set; }
    public double Rank { get; set; }
}

/// <summary>One stored index document (for snippets).</summary>
public sealed class SearchIndexRow
{
    public long MessageId { get; set; }
    public string Subject { get; set; } = "";
    public string Body { get; set; } = "";
    public string Sender { get; set; } = "";
    public string Recipients { get; set; } = "";
    public string FileNames { get; set; } = "";
}

/// <summary>
/// The full-text index of messages, kept outside EF's model (so no EF migration ever drops or rebuilds it) and created
/// by the migrator. SQLite: an FTS5 table with the trigram tokenizer, keyed by the message id (rowid): any substring
/// of 3 or more characters matches, in any script, without word splitting rules. PostgreSQL: a table with the same
/// columns, a <c>tsvector</c> (simple + the configured language) for ranking, and a pg_trgm GIN index over the
/// text for the same substring matching, so both providers find the same tickets. A message's row is written in the
/// transaction that stores the message (intake's batch, a reply, a note) and goes with it (trigger / cascade).
/// </summary>
public static class SearchIndex
{
    /// <summary>Bumped when what is indexed changes: a database with another version is rebuilt at start.</summary>
    public const int Version = 1;

    private const string Table = "\"SearchIndex\"";
    private const string State = "\"SearchIndexState\"";
    private const string Columns = "\"Subject\", \"Body\", \"Sender\", \"Recipients\", \"FileNames\"";

    // The text PostgreSQL's trigram index covers; a query must repeat this exact expression to use it.
    private const string PgAllText = "(\"Subject\" || ' ' || \"Body\" || ' ' || \"Sender\" || ' ' || \"Recipients\" || ' ' || \"FileNames\")";
    private const string PgLanguage = "(SELECT \"Language\" FROM \"SearchIndexState\" LIMIT 1)::regconfig";

    /// <summary>
    /// Creates what is missing and says whether the index must be (re)built: it was just created for a database that
    /// has messages, an earlier build did not finish, or <see cref="Version"/> or the language changed.
    /// </summary>
    internal static async Task<bool> EnsureSchemaAsync(AppDbContext db, string language, CancellationToken ct)
    {
        var postgres = db.Database.IsNpgsql();
        var statements = postgres
            ? new[]
            {
                "CREATE EXTENSION IF NOT EXISTS pg_trgm",
                $"""
                CREATE TABLE IF NOT EXISTS {Table} (
                    "MessageId" bigint PRIMARY KEY REFERENCES "Messages" ("Id") ON DELETE CASCADE,
                    "Subject" text NOT NULL, "Body" text NOT NULL, "Sender" text NOT NULL, "Recipients" text NOT NULL,
                    "FileNames" text NOT NULL, "Words" tsvector NOT NULL)
                """,
                $"CREATE INDEX IF NOT EXISTS \"IX_SearchIndex_Words\" ON {Table} USING gin (\"Words\")",
                $"CREATE INDEX IF NOT EXISTS \"IX_SearchIndex_Text\" ON {Table} USING gin ({PgAllText} gin_trgm_ops)",
                $"CREATE TABLE IF NOT EXISTS {State} (\"Version\" integer NOT NULL, \"Language\" text NOT NULL)",
            }
            : new[]
            {
                $"CREATE VIRTUAL TABLE IF NOT EXISTS {Table} USING fts5({Columns}, tokenize = 'trigram')",
                // EF's SQLite migrations rebuild a table by copying it and dropping the old one, which drops its
                // triggers too: it is created again after every migration run.
                $"""
                CREATE TRIGGER IF NOT EXISTS "SearchIndex_MessageDeleted" AFTER DELETE ON "Messages"
                BEGIN DELETE FROM {Table} WHERE rowid = old."Id"; END
                """,
                $"CREATE TABLE IF NOT EXISTS {State} (\"Version\" INTEGER NOT NULL, \"Language\" TEXT NOT NULL)",
            };
        foreach (var statement in statements)
            await db.Database.ExecuteSqlRawAsync(statement, ct);
        if (postgres)
        {
            // Refused here in words rather than on the first message: the language must be a text search configuration.
            var known = await db.Database.SqlQueryRaw<int>("SELECT count(*)::int AS \"Value\" FROM pg_ts_config WHERE cfgname = {0}", language)
                .SingleAsync(ct);
            if (known == 0)
                throw new InvalidOperationException($"ConnectiveOne:Search:Language is \"{language}\", which PostgreSQL does not know as a "
                    + "text search configuration (SELECT cfgname FROM pg_ts_config lists them).");
        }
        var built = await db.Database.SqlQueryRaw<int>($"SELECT count(*) AS \"Value\" FROM {State} WHERE \"Version\" = {{0}} AND \"Language\" = {{1}}",
            Version, language).SingleAsync(ct);
        return built == 0;
    }

    /// <summary>
    /// Rebuilds every message's row, a batch per transaction (the index stays searchable meanwhile), logging progress,
    /// then removes rows of messages that are gone and records the build. Safe to run again after an interruption.
    /// </summary>
    public static async Task RebuildAsync(AppDbContext db, string language, ILogger logger, CancellationToken ct)
    {
        const int batchSize = 500;
        // Constant SQL: the key column differs (SQLite's FTS rows are keyed by rowid).
        const string pgKey = "\"MessageId\"", sqliteKey = "rowid";
        var key = db.Database.IsNpgsql() ? pgKey : sqliteKey;
        var deleteRange = "DELETE FROM " + Table + " WHERE " + key + " BETWEEN {0} AND {1}";
        // The language goes into the state first: PostgreSQL's inserts read it from there.
        await db.Database.ExecuteSqlRawAsync($"DELETE FROM {State}", ct);
        await db.Database.ExecuteSqlRawAsync($"INSERT INTO {State} (\"Version\", \"Language\") VALUES ({{0}}, {{1}})", [-1, language], ct);
        var total = await db.Messages.CountAsync(ct);
        logger.LogInformation("Search index: rebuilding for {Total} messages", total);
        var started = System.Diagnostics.Stopwatch.StartNew();
        var lastLog = started.Elapsed;
        long last = 0;
        var done = 0;
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            while (true)
            {
                var batch = await db.Messages.AsNoTracking().Where(m => m.Id > last).OrderBy(m => m.Id).Take(batchSize)
                    .Select(m => new
                    {
                        m.Id, m.Subject, m.Text, m.Html, m.FromName, m.FromAddress, m.To, m.Cc,
                        Files = m.Attachments.OrderBy(a => a.Id).Select(a => a.FileName).ToList(),
                    })
                    .ToListAsync(ct);
                if (batch.Count == 0)
                    break;
                await using var transaction = await db.Database.BeginTransactionAsync(ct);
                await db.Database.ExecuteSqlRawAsync(deleteRange, [batch[0].Id, batch[^1].Id], ct);
                await using (var rows = new SearchRows(db.Database.GetDbConnection()))
                {
                    foreach (var m in batch)
                    {
                        var message = new TicketMessage
                        {
                            Id = m.Id, Subject = m.Subject, Text = m.Text, Html = m.Html, FromName = m.FromName, FromAddress = m.FromAddress,
                            To = m.To, Cc = m.Cc, DedupKey = "",
                            Attachments = m.Files.Select(f => new MessageAttachment { FileName = f, ContentType = "", Sha256 = "" }).ToList(),
                        };
                        await rows.InsertAsync(SearchDocument.For(message), transaction.GetDbTransaction(), ct);
                    }
                }
                await transaction.CommitAsync(ct);
                last = batch[^1].Id;
                done += batch.Count;
                if (started.Elapsed - lastLog > TimeSpan.FromSeconds(5))
                {
                    lastLog = started.Elapsed;
                    logger.LogInformation("Search index: {Done} of {Total} messages ({Percent:F0} %)", done, total, 100.0 * done / Math.Max(total, 1));
                }
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
        var deleteOrphans = "DELETE FROM " + Table + " WHERE " + key + " NOT IN (SELECT \"Id\" FROM \"Messages\")";
        await db.Database.ExecuteSqlRawAsync(deleteOrphans, ct);
        await db.Database.ExecuteSqlRawAsync($"UPDATE {State} SET \"Version\" = {{0}}", [Version], ct);
        logger.LogInformation("Search index: rebuilt for {Done} messages in {Seconds:F1} s", done, started.Elapsed.TotalSeconds);
    }

    /// <summary>Writes the index row of a message stored through EF (a reply, a note), inside the current transaction.</summary>
    public static async Task AddAsync(AppDbContext db, TicketMessage message, CancellationToken ct)
    {
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("A message's index row is written in the transaction that stores the message.");
        await using var rows = new SearchRows(db.Database.GetDbConnection());
        await rows.InsertAsync(SearchDocument.For(message), transaction, ct);
    }

    /// <summary>
    /// Messages that contain every term (<paramref name="all"/>) or any of them (as for terms left out), with their
    /// rank. Composable: the caller joins it to messages and tickets. Each term reaches the database as a parameter
    /// holding a quoted literal, never as query syntax.
    /// </summary>
    public static IQueryable<SearchHit> Matches(AppDbContext db, IReadOnlyList<SearchTerm> terms, bool all)
    {
        if (terms.Count == 0)
            throw new ArgumentException("Matches needs at least one term.", nameof(terms));
        var parameters = new List<object>();
        string Parameter(object value)
        {
            parameters.Add(value);
            return "{" + (parameters.Count - 1).ToString(CultureInfo.InvariantCulture) + "}";
        }
        var sql = new StringBuilder();
        if (db.Database.IsNpgsql())
        {
            var conditions = terms.Select(t =>
            {
                var pattern = Parameter("%" + t.Text.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%");
                return t.Field == SearchField.Any ? $"{PgAllText} ILIKE {pattern}" : $"({PgAllText} ILIKE {pattern} AND {PgColumn(t.Field)} ILIKE {pattern})";
            }).ToList();
            var rank = all
                ? "-ts_rank(\"Words\", " + string.Join(" || ", terms.Select(t =>
                {
                    var text = Parameter(t.Text);
                    return $"plainto_tsquery('simple', {text}) || plainto_tsquery({PgLanguage}, {text})";
                })) + ")::float8"
                : "0.0::float8";
            sql.Append("SELECT \"MessageId\", ").Append(rank).Append(" AS \"Rank\" FROM ").Append(Table)
                .Append(" WHERE ").AppendJoin(all ? " AND " : " OR ", conditions);
        }
        else
        {
            var indexed = terms.Where(t => t.Indexed).Select(t => (t.Field == SearchField.Any ? "" : SqliteColumn(t.Field) + " : ") + Quote(t.Text));
            sql.Append("SELECT rowid AS \"MessageId\", ").Append(all ? "bm25(\"SearchIndex\", 8.0, 1.0, 4.0, 2.0, 4.0)" : "0.0")
                .Append(" AS \"Rank\" FROM ").Append(Table).Append(" WHERE ").Append(Table).Append(" MATCH ")
                .Append(Parameter(string.Join(all ? " AND " : " OR ", indexed)));
            // Under 3 characters the trigram index cannot help: such terms only narrow what the others found.
            foreach (var term in terms.Where(t => !t.Indexed))
            {
                var column = term.Field == SearchField.Any ? "(\"Subject\" || ' ' || \"Body\" || ' ' || \"Sender\" || ' ' || \"Recipients\" || ' ' || \"FileNames\")"
                    : $"\"{SqliteColumn(term.Field)}\"";
                sql.Append(" AND instr(lower(").Append(column).Append("), ").Append(Parameter(term.Text.ToLowerInvariant())).Append(") > 0");
            }
            // bm25() works only while the full-text query drives the scan of its table. A subquery with a LIMIT is
            // neither flattened into the caller's join nor given its conditions, so the MATCH always does.
            sql.Append(" LIMIT -1");
        }
        return db.Database.SqlQueryRaw<SearchHit>(sql.ToString(), parameters.ToArray());
    }

    /// <summary>The stored documents of these messages (for snippets).</summary>
    public static Task<List<SearchIndexRow>> DocumentsAsync(AppDbContext db, IReadOnlyCollection<long> messageIds, CancellationToken ct)
    {
        var sql = "SELECT " + (db.Database.IsNpgsql() ? "\"MessageId\"" : "rowid AS \"MessageId\"") + ", " + Columns + " FROM " + Table;
        var ids = messageIds.ToList();
        return db.Database.SqlQueryRaw<SearchIndexRow>(sql)
            .Where(r => ids.Contains(r.MessageId)).ToListAsync(ct);
    }

    private static string SqliteColumn(SearchField field) => field switch
    {
        SearchField.From => "Sender",
        SearchField.To => "Recipients",
        SearchField.Subject => "Subject",
        SearchField.FileName => "FileNames",
        _ => throw new ArgumentOutOfRangeException(nameof(field)),
    };

    private static string PgColumn(SearchField field) => $"\"{SqliteColumn(field)}\"";

    // An FTS5 string: the text in double quotes, quotes doubled. Inside it, * ^ NEAR AND OR : are plain characters.
    private static string Quote(string text) => "\"" + text.Replace("\"", "\"\"") + "\"";

    /// <summary>The insert of a message's row, prepared once per connection (intake reuses it for every message).</summary>
    internal sealed class SearchRows(DbConnection connection) : IAsyncDisposable
    {
        private readonly DbCommand _command = Create(connection);

        private static DbCommand Create(DbConnection connection)
        {
            var command = connection.CreateCommand();
            command.CommandText = connection is Npgsql.NpgsqlConnection
                ? $"INSERT INTO {Table} (\"MessageId\", {Columns}, \"Words\") VALUES (@id, @subject, @body, @sender, @recipients, @files, "
                  + $"to_tsvector('simple', @all) || to_tsvector({PgLanguage}, @all))"
                : $"INSERT INTO {Table} (rowid, {Columns}) VALUES (@id, @subject, @body, @sender, @recipients, @files)";
            return command;
        }

        public async Task InsertAsync(SearchDocument document, DbTransaction transaction, CancellationToken ct)
        {
            _command.Transaction = transaction;
            _command.Parameters.Clear();
            Add("@id", document.MessageId);
            Add("@subject", document.Subject);
            Add("@body", document.Body);
            Add("@sender", document.Sender);
            Add("@recipients", document.Recipients);
            Add("@files", document.FileNames);
            if (connection is Npgsql.NpgsqlConnection)
                Add("@all", document.AllText);
            await _command.ExecuteNonQueryAsync(ct);
        }

        private void Add(string name, object value)
        {
            var parameter = _command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            _command.Parameters.Add(parameter);
        }

        public ValueTask DisposeAsync() => _command.DisposeAsync();
    }
}
