using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Tickets;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Benchmarks;

/// <summary>
/// The inbox's reads on 100,000 tickets and 1,000,000 messages (<see cref="InboxDataset"/>), through the production
/// code paths with a fresh DbContext per call as the pages do: the first page of the list (as the inbox filters it),
/// the unread marks for that page, the status counts, and a ticket with 50 messages. Target: p95 under 50 ms.
/// </summary>
internal static class InboxQueriesBenchmark
{
    private const int PageSize = 50; // InboxState.PageSize
    private const double TargetMs = 50;

    public static async Task RunAsync(int rounds)
    {
        var data = await InboxDataset.EnsureAsync();
        using var host = BenchHost.Build(data);
        var services = host.Services;
        var scopes = services.GetRequiredService<IServiceScopeFactory>();

        Guid bot;
        string customer;
        TicketPage firstPage;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            bot = (await db.Bots.AsNoTracking().OrderBy(b => b.Name).FirstAsync()).Id;
            customer = (await db.Tickets.AsNoTracking().SingleAsync(t => t.Id == InboxDataset.FiftyMessageTicketId)).CustomerEmail;
            firstPage = await ListAsync(scope.ServiceProvider, new TicketFilter(RoutedOnly: true));
            Console.WriteLine($"Dataset: {await db.Tickets.CountAsync()} tickets, {await db.Messages.CountAsync()} messages, " +
                              $"{await db.Addresses.CountAsync()} addresses, {await db.Bots.CountAsync()} bots; " +
                              $"{new FileInfo(Path.Combine(data, "connectiveone.db")).Length / 1024 / 1024} MB");
        }
        Console.WriteLine($"{Environment.ProcessorCount} cores; .NET {Environment.Version}; SQLite {SqliteVersion()}; load average {LoadAverage()}");
        Console.WriteLine($"Each: 20 warm-up calls, then {rounds} timed calls, each in a fresh scope (DbContext). Target p95 < {TargetMs} ms.");
        Console.WriteLine();

        TicketFilter Inbox(Guid? botId = null, TicketStatus? status = null, string? query = null, string? assignee = null) =>
            new(botId, status, query, assignee, RoutedOnly: true);

        var cases = new (string Name, Func<IServiceProvider, Task> Call)[]
        {
            ("list page 1: all bots", s => ListAsync(s, Inbox())),
            ("list page 1: status Open", s => ListAsync(s, Inbox(status: TicketStatus.Open))),
            ("list page 1: status Resolved", s => ListAsync(s, Inbox(status: TicketStatus.Resolved))),
            ("list page 1: one bot", s => ListAsync(s, Inbox(botId: bot))),
            ("list page 1: one bot, Open", s => ListAsync(s, Inbox(botId: bot, status: TicketStatus.Open))),
            ("list page 1: mine", s => ListAsync(s, Inbox(assignee: InboxDataset.OperatorId))),
            ("list page 1: search \"refund\"", s => ListAsync(s, Inbox(query: "refund"))),
            ($"list page 1: search \"{customer}\"", s => ListAsync(s, Inbox(query: customer))),
            ("unread marks for page 1", s => s.GetRequiredService<TicketReads>().UnreadAsync(InboxDataset.OperatorId, firstPage.Items)),
            ("inbox first page: list + unread (one scope)", async s =>
            {
                var page = await ListAsync(s, Inbox());
                await s.GetRequiredService<TicketReads>().UnreadAsync(InboxDataset.OperatorId, page.Items);
            }),
            // A new instance always recounts; the app's singleton recounts at most once a second.
            ("status counts (one recount)", async s =>
            {
                using var counts = new TicketCounts(s.GetRequiredService<IServiceScopeFactory>(), TimeProvider.System, s.GetRequiredService<ChangeNotifier>());
                await counts.GetAsync();
            }),
            ($"ticket #{InboxDataset.FiftyMessageTicketId} with 50 messages", async s =>
            {
                var ticket = await s.GetRequiredService<TicketQueries>().GetAsync(InboxDataset.FiftyMessageTicketId, CancellationToken.None);
                if (ticket?.Messages.Count != 50)
                    throw new InvalidOperationException("The 50-message ticket did not load.");
            }),
        };

        var missed = 0;
        foreach (var (name, call) in cases)
        {
            var stats = await Stats.MeasureAsync(20, rounds, async () =>
            {
                await using var scope = scopes.CreateAsyncScope();
                await call(scope.ServiceProvider);
            });
            var verdict = stats.P95 < TargetMs ? "ok" : "MISSED";
            if (stats.P95 >= TargetMs)
                missed++;
            Console.WriteLine($"{name,-58} {stats}  {verdict}");
        }
        Console.WriteLine();
        Console.WriteLine(missed == 0 ? "All within the target." : $"{missed} of {cases.Length} missed the target.");
        SqliteConnection.ClearAllPools();
    }

    private static Task<TicketPage> ListAsync(IServiceProvider services, TicketFilter filter) =>
        services.GetRequiredService<TicketQueries>().ListAsync(filter, 1, PageSize, CancellationToken.None);

    private static string SqliteVersion()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT sqlite_version()";
        return (string)command.ExecuteScalar()!;
    }

    internal static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
