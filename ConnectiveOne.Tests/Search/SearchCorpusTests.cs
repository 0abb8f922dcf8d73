using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MimeKit;

namespace ConnectiveOne.Tests.Search;

/// <summary>
/// 22 messages of the shared corpus (mime/mxr, mime/mailparser, two of mime/zbateson: the other two repeat a
/// Message-ID and are duplicates) sent through the real SMTP listener into one app, once for the class.
/// </summary>
public sealed class SearchCorpusFixture : IAsyncLifetime
{
    public static readonly Dictionary<string, string> Files = new()
    {
        ["alt"] = "mime/mxr/alternative-html-first.eml",
        ["dup"] = "mime/mxr/duplicate-singletons.eml",
        ["encoded"] = "mime/mxr/encoded-words.eml",
        ["flowed"] = "mime/mxr/folded-flowed.eml",
        ["group-from"] = "mime/mxr/malformed-minimal.eml",
        ["no-type"] = "mime/mxr/missing-content-type.eml",
        ["no-id"] = "mime/mxr/missing-message-id.eml",
        ["calendar"] = "mime/mxr/multipart-calendar.eml",
        ["nested-mxr"] = "mime/mxr/nested-multipart.eml",
        ["group-to"] = "mime/mxr/quoted-local-group.eml",
        ["rfc2231"] = "mime/mxr/rfc2231-attachment.eml",
        ["unsubscribe"] = "mime/mxr/unsubscribe-oneclick.eml",
        ["b64-root"] = "mime/mailparser/base64encodedroot.eml",
        ["fwd"] = "mime/mailparser/decoderended.eml",
        ["dsn"] = "mime/mailparser/delivery-status.eml",
        ["mixed"] = "mime/mailparser/mixed.eml",
        ["nested"] = "mime/mailparser/nested.eml",
        ["nodemailer"] = "mime/mailparser/nodemailer.eml",
        ["simple"] = "mime/mailparser/simple.eml",
        ["spam"] = "mime/mailparser/spam.eml",
        ["hasen"] = "mime/zbateson/github-102-01.txt",
        ["hare"] = "mime/zbateson/github-115.txt",
    };

    public InboundApp Inbound { get; } = new();
    public HttpClient Api { get; private set; } = null!;
    public string TechnicalAddress { get; private set; } = "";

    /// <summary>The ticket each file landed in.</summary>
    public Dictionary<string, long> Tickets { get; } = [];

    public async Task InitializeAsync()
    {
        Api = Inbound.App.CreateApiClient();
        TechnicalAddress = (await InboundAddresses.AddAsync(Inbound.App.Services, "support@acme.test")).TechnicalAddress;
        foreach (var (name, file) in Files)
        {
            await Inbound.SendAsync(await MimeMessage.LoadAsync(Corpus.PathOf(file)), TechnicalAddress);
            Tickets[name] = await ReadAsync(db => db.Messages.OrderByDescending(m => m.Id).Select(m => m.TicketId).FirstAsync());
        }
        // One ticket assigned to the admin, for is:mine and assignee:.
        var admin = await ReadAsync(db => db.Users.Where(u => u.Email == TestApp.AdminEmail).Select(u => u.Id).SingleAsync());
        var assigned = await Api.PatchAsJsonAsync($"/api/v1/tickets/{Tickets["simple"]}", new { assigneeId = admin });
        assigned.EnsureSuccessStatusCode();
    }

    public async Task<T> ReadAsync<T>(Func<AppDbContext, Task<T>> query)
    {
        await using var scope = Inbound.App.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<AppDbContext>());
    }

    /// <summary>GET /api/v1/tickets?q=…: the status and the body.</summary>
    public async Task<(HttpStatusCode Status, JsonElement Body)> SearchAsync(string query)
    {
        using var response = await Api.GetAsync($"/api/v1/tickets?pageSize=200&q={Uri.EscapeDataString(query)}");
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    public async Task DisposeAsync() => await Inbound.DisposeAsync();
}

/// <summary>
/// The search language over real mail, through <c>GET /api/v1/tickets?q=</c>, on both databases: for each query the
/// exact set of tickets, checked by hand against the files (what each file holds is noted beside its query).
/// </summary>
[RunsLong(25)]
public sealed class SearchCorpusTests(SearchCorpusFixture corpus) : IClassFixture<SearchCorpusFixture>
{
    // Query → the files whose tickets match, and why.
    public static TheoryData<string, string[]> Queries => new()
    {
        // "Plain alternative second." / "Just plain text." (and From "Plain") / "Nested plain body."
        { "plain", ["alt", "no-type", "nested-mxr"] },
        // Only the two subjects "Missing content type" hold the phrase; bodies say "No explicit content type", "No Content-Type".
        { "\"missing content type\"", ["group-from", "no-type"] },
        { "subject:missing", ["group-from", "no-type", "no-id"] },
        // Alice Smith <alice@…>, and the group "Example Group: Alice <alice@…>, Bob <bob@…>;" whose first mailbox is Alice.
        { "from:alice@example.com", ["calendar", "group-from"] },
        // To (or the group in To) names bob@example.com; group-from has Bob only in From.
        { "to:bob@example.com", ["alt", "dup", "no-type", "no-id", "calendar", "nested-mxr", "group-to", "rfc2231"] },
        { "cc:dev@example.com", ["flowed"] },
        // Cc: "\"quoted.local\""@example.com
        { "to:quoted.local", ["group-to"] },
        { "to:team", ["encoded", "flowed"] },
        { "from:kreata.ee", ["nodemailer", "simple"] },
        { "from:kreata.ee -nodemailer", ["simple"] },
        // Q4-€-report.pdf, nested.pdf
        { "filename:pdf", ["calendar", "nested-mxr"] },
        // RFC 2231 encoded "naïve file.txt"
        { "filename:naïve", ["rfc2231"] },
        // "nyan cat ✔.gif", an inline image with a file name
        { "filename:\"nyan cat\"", ["nodemailer"] },
        // Subject "Résumé — Q1" (encoded words), in either case
        { "Résumé", ["encoded"] },
        { "RÉSUMÉ", ["encoded"] },
        // A short word (Q1) only narrows a longer one
        { "q1 résumé", ["encoded"] },
        // "Die Hasen und die Frösche" (ISO-8859-1 body)
        { "Frösche", ["hasen"] },
        { "tortoise hare", ["hare"] },
        { "\"the tortoise\"", ["hare"] },
        { "tortoise -hare", [] },
        { "meeting", ["calendar"] },
        { "planning is:open", ["calendar"] },
        { "planning is:resolved", [] },
        // Dates (Date header, else when received, i.e. now): 2004-09-09, 2000-05-17 twice.
        { "before:2004-09-10", ["fwd", "hasen", "hare"] },
        // 2024-03-20 (encoded), 2024-03-21 (rfc2231)
        { "after:2024-03-19 before:2024-03-22", ["encoded", "rfc2231"] },
        // Body of the bounce: "…to the following recipients: xxxx@xxxx.com"
        { "xxxx@xxxx.com", ["dsn"] },
        // Subject "123.042 Euro pro Jahr GRARANTIERT von einer Bank! KOSTENLOS"
        { "euro kostenlos", ["spam"] },
        // "Hello team," / "Hello to myself!" / "Hello world!"; simple is assigned to the admin
        { "hello is:unassigned", ["flowed", "nodemailer"] },
        { "hello is:mine", ["simple"] },
        { $"hello assignee:{TestApp.AdminEmail}", ["simple"] },
        { "\"quarterly update\" from:josé", ["flowed"] },
    };

    [Theory]
    [MemberData(nameof(Queries))]
    public async Task Each_query_finds_exactly_the_tickets_written_for_it(string query, string[] expected)
    {
        var (status, body) = await corpus.SearchAsync(query);
        Assert.True(status == HttpStatusCode.OK, $"{query}: {status} {body}");
        var names = corpus.Tickets.GroupBy(t => t.Value).ToDictionary(g => g.Key, g => string.Join("+", g.Select(t => t.Key).Order()));
        var found = body.GetProperty("items").EnumerateArray().Select(t => t.GetProperty("id").GetInt64())
            .Select(id => names.GetValueOrDefault(id, $"#{id}")).Order().ToList();
        Assert.Equal(expected.Select(e => names[corpus.Tickets[e]]).Distinct().Order().ToList(), found);
        Assert.Equal(found.Count, body.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task A_ticket_number_with_a_word_keeps_both_conditions()
    {
        var calendar = corpus.Tickets["calendar"];
        Assert.Equal([calendar], await IdsAsync($"#{calendar} meeting"));
        Assert.Empty(await IdsAsync($"#{calendar} plain"));
    }

    [Fact]
    public async Task Results_carry_an_escaped_snippet_with_the_words_marked()
    {
        var (_, body) = await corpus.SearchAsync("tortoise");
        var snippet = body.GetProperty("items")[0].GetProperty("snippet").GetString();
        Assert.Contains("The Hare and the <mark>Tortoise</mark>", snippet);
        // The quotes of the fable come back escaped: only <mark> is markup.
        Assert.Contains("&quot;Though you be swift", snippet);
        Assert.DoesNotContain("\"Though", snippet);
    }

    [Fact]
    public async Task A_message_is_found_by_a_body_word_as_soon_as_smtp_says_250()
    {
        var word = "zq" + Guid.NewGuid().ToString("N")[..10];
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("fresh@customer.test"));
        message.To.Add(MailboxAddress.Parse("support@acme.test"));
        message.Subject = "Just arrived";
        message.Body = new TextPart("plain") { Text = $"The code is {word}, please check." };
        await corpus.Inbound.SendAsync(message, corpus.TechnicalAddress);
        var (status, body) = await corpus.SearchAsync(word);
        Assert.Equal(HttpStatusCode.OK, status);
        var item = Assert.Single(body.GetProperty("items").EnumerateArray());
        Assert.Equal("Just arrived", item.GetProperty("subject").GetString());
        Assert.Contains($"<mark>{word}</mark>", item.GetProperty("snippet").GetString());

        // A reply is indexed in its own transaction too.
        var ticket = item.GetProperty("id").GetInt64();
        var reply = "yq" + Guid.NewGuid().ToString("N")[..10];
        (await corpus.Api.PostAsJsonAsync($"/api/v1/tickets/{ticket}/replies", new { text = $"Answer {reply}" })).EnsureSuccessStatusCode();
        Assert.Equal([ticket], await IdsAsync(reply));
    }

    [Theory]
    [InlineData("\"unbalanced", "quote is not closed")]
    [InlineData("colour:red", "not a search operator")]
    [InlineData("invoice*", "“*” is not part of the search language")]
    [InlineData("apple NEAR pie", "“NEAR” is not an operator here")]
    [InlineData("title^2", "“^” is not part of the search language")]
    [InlineData(":", "starts with a colon")]
    [InlineData("say\"hi\"", "A quote can only start a phrase")]
    [InlineData("the of and", "only common words")]
    [InlineData("tag:vip", "no tags yet")]
    [InlineData("before:2024-13-01", "not a date")]
    public async Task Malformed_queries_answer_400_with_a_title_in_words(string query, string expected)
    {
        var (status, body) = await corpus.SearchAsync(query);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(expected, body.GetProperty("title").GetString());
    }

    [Fact]
    public async Task Ten_thousand_characters_answer_400_with_the_limit()
    {
        var (status, body) = await corpus.SearchAsync(new string('a', 10_000));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("at most 500 characters", body.GetProperty("title").GetString());
    }

    /// <summary>
    /// A database as today's main left it (no index tables) gets the index built by the next start, once; the
    /// <c>reindex</c> command of the executable rebuilds it; both find exactly what fresh intake found.
    /// </summary>
    [Fact]
    public async Task An_existing_database_is_indexed_once_at_start_and_by_reindex_with_the_same_results()
    {
        var queries = Queries.Select(row => (string)row[0]).ToList();
        var fresh = new List<List<long>>();
        foreach (var query in queries)
            fresh.Add(await IdsAsync(query));
        var migrator = corpus.Inbound.App.Services.GetServices<IHostedService>().Single(s => s.GetType().Name == "DatabaseMigrator");

        await DropIndexAsync();
        await migrator.StartAsync(CancellationToken.None); // what the next start of the app does
        await AssertSameAsync(queries, fresh);

        // Built once: a current index is not rebuilt at start (a row taken out stays out) ...
        await corpus.ReadAsync(db => db.Database.ExecuteSqlRawAsync(TestDatabase.IsPostgres
            ? "DELETE FROM \"SearchIndex\" WHERE \"MessageId\" IN (SELECT \"Id\" FROM \"Messages\" WHERE \"TicketId\" = {0})"
            : "DELETE FROM \"SearchIndex\" WHERE rowid IN (SELECT \"Id\" FROM \"Messages\" WHERE \"TicketId\" = {0})", corpus.Tickets["hare"]));
        await migrator.StartAsync(CancellationToken.None);
        Assert.Empty(await IdsAsync("tortoise"));

        // ... and the reindex command rebuilds everything, also on a database without the index at all.
        await DropIndexAsync();
        var output = await ReindexAsync();
        Assert.Contains("Search index: rebuilt for", output);
        await AssertSameAsync(queries, fresh);
    }

    private async Task AssertSameAsync(List<string> queries, List<List<long>> expected)
    {
        for (var i = 0; i < queries.Count; i++)
            Assert.True(expected[i].Order().SequenceEqual((await IdsAsync(queries[i])).Order()), $"{queries[i]} differs after the rebuild");
    }

    private Task DropIndexAsync() => corpus.ReadAsync(async db =>
    {
        if (!TestDatabase.IsPostgres)
            await db.Database.ExecuteSqlRawAsync("DROP TRIGGER \"SearchIndex_MessageDeleted\"");
        await db.Database.ExecuteSqlRawAsync("DROP TABLE \"SearchIndex\"");
        return await db.Database.ExecuteSqlRawAsync("DROP TABLE \"SearchIndexState\"");
    });

    // `dotnet ConnectiveOne.Console.dll reindex` on the app's data folder and database, while the app runs.
    private async Task<string> ReindexAsync()
    {
        var app = corpus.Inbound.App;
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "ConnectiveOne.Console.dll"), "reindex"])
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ConnectiveOne__DataDirectory"] = app.DataDirectory;
        foreach (var (key, value) in app.Database.Settings)
            start.Environment[key.Replace(":", "__")] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        var output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"reindex exited with {process.ExitCode}: {output}");
        return output;
    }

    private async Task<List<long>> IdsAsync(string query)
    {
        var (status, body) = await corpus.SearchAsync(query);
        Assert.True(status == HttpStatusCode.OK, $"{query}: {status} {body}");
        return body.GetProperty("items").EnumerateArray().Select(t => t.GetProperty("id").GetInt64()).ToList();
    }
}
