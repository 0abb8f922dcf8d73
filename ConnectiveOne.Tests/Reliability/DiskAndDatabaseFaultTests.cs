using System.Data.Common;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Tests.TestSupport;
using MailKit.Net.Smtp;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using Npgsql;
using Xunit.Abstractions;

namespace ConnectiveOne.Tests.Reliability;

/// <summary>
/// When the database cannot take a write (locked by another process, read-only) or the disk is nearly full, mail is
/// refused for now (SMTP 451/452, webhook 503/507), never acknowledged, nothing is half-stored, and once the fault
/// clears the same mail is accepted.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class DiskAndDatabaseFaultTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_database_locked_by_another_process_gets_451_and_503_and_mail_is_accepted_once_it_is_released()
    {
        // 1 s of command timeout (on top of SQLite's 5 s busy wait) keeps the test short; production waits 30 s.
        await using var inbound = new InboundApp(new Dictionary<string, string?> { ["ConnectiveOne:DatabaseTimeoutSeconds"] = "1" });
        var address = await InboundAddresses.AddAsync(inbound.App.Services, "support@locked.test");
        var database = inbound.App.Database;

        var clock = Stopwatch.StartNew();
        (int Smtp, HttpStatusCode Webhook) during;
        // Another process holds the lock: on SQLite a write transaction on the file, on PostgreSQL exclusive locks on
        // the tables intake reads and writes.
        await using (var holder = await HolderAsync(database))
        {
            during = await SendBothAsync(inbound, address.TechnicalAddress, "locked");
            await ExecuteAsync(holder, "ROLLBACK");
        }
        var faultSeconds = clock.Elapsed.TotalSeconds;
        var storedDuring = await StoredAsync(inbound, "locked");
        var after = await SendBothAsync(inbound, address.TechnicalAddress, "locked");
        var storedAfter = await StoredAsync(inbound, "locked");
        output.WriteLine($"locked: SMTP {during.Smtp}, webhook {(int)during.Webhook} after {faultSeconds:0.0} s; stored meanwhile " +
            $"{storedDuring}; released: SMTP {after.Smtp}, webhook {(int)after.Webhook}; stored {storedAfter}");

        await AssertRefusedThenAcceptedAsync(during, storedDuring, after, storedAfter, database);
    }

    private static async Task<DbConnection> HolderAsync(TestDatabase database)
    {
        DbConnection holder = TestDatabase.IsPostgres
            ? new NpgsqlConnection(database.ConnectionString + ";Pooling=false")
            : new SqliteConnection($"Data Source={database.SqliteFile};Pooling=False");
        await holder.OpenAsync();
        await ExecuteAsync(holder, TestDatabase.IsPostgres
            ? "BEGIN; LOCK TABLE \"Messages\", \"RawMessages\", \"Tickets\" IN ACCESS EXCLUSIVE MODE"
            : "BEGIN EXCLUSIVE");
        return holder;
    }

    // PostgreSQL's counterpart of the read-only file: the server refuses the database (as when it is down or
    // restarting) and cuts the connections the app holds.
    [PostgresFact]
    [Trait("Database", "Postgres")]
    public async Task An_unreachable_database_gets_451_and_503_and_mail_is_accepted_once_it_is_back()
    {
        await using var inbound = new InboundApp();
        var address = await InboundAddresses.AddAsync(inbound.App.Services, "support@unreachable.test");
        var database = inbound.App.Database;

        (int Smtp, HttpStatusCode Webhook) during;
        await database.AdminAsync($"ALTER DATABASE \"{database.Name}\" ALLOW_CONNECTIONS false; "
            + $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database.Name}'");
        try
        {
            await using (var probe = new NpgsqlConnection(database.ConnectionString + ";Pooling=false"))
            {
                var error = await Record.ExceptionAsync(() => probe.OpenAsync());
                Assert.True(error is PostgresException, "the fault did not take: the database still takes connections");
            }
            during = await SendBothAsync(inbound, address.TechnicalAddress, "unreachable");
        }
        finally
        {
            await database.AdminAsync($"ALTER DATABASE \"{database.Name}\" ALLOW_CONNECTIONS true");
            // The pool still holds the connections the server cut; as after a server restart, new ones are needed.
            database.ClearPool();
        }
        var storedDuring = await StoredAsync(inbound, "unreachable");
        var after = await SendBothAsync(inbound, address.TechnicalAddress, "unreachable");
        var storedAfter = await StoredAsync(inbound, "unreachable");
        output.WriteLine($"unreachable: SMTP {during.Smtp}, webhook {(int)during.Webhook}; stored meanwhile {storedDuring}; " +
            $"back: SMTP {after.Smtp}, webhook {(int)after.Webhook}; stored {storedAfter}");

        await AssertRefusedThenAcceptedAsync(during, storedDuring, after, storedAfter, database);
    }

    [SqliteFact]
    [Trait("Database", "Sqlite")] // a read-only file; PostgreSQL's counterpart is the unreachable database above
    public async Task A_read_only_database_gets_451_and_503_and_mail_is_accepted_once_it_is_writable_again()
    {
        await using var inbound = new InboundApp();
        var address = await InboundAddresses.AddAsync(inbound.App.Services, "support@readonly.test");
        var database = inbound.App.Database;

        (int Smtp, HttpStatusCode Webhook) during;
        (int, int, int) storedDuring;
        MakeReadOnly(database.SqliteFile, true);
        try
        {
            // Pooled connections keep the file open for writing; new ones see it read-only (as after a restart).
            SqliteConnection.ClearAllPools();
            await using (var probe = new SqliteConnection($"Data Source={database.SqliteFile};Pooling=False"))
            {
                await probe.OpenAsync();
                var error = await Record.ExceptionAsync(() => ExecuteAsync(probe, "CREATE TABLE ReadOnlyProbe(x)"));
                Assert.True(error is SqliteException, "the fault did not take: the database file is still writable");
            }
            during = await SendBothAsync(inbound, address.TechnicalAddress, "readonly");
            storedDuring = await StoredAsync(inbound, "readonly");
        }
        finally
        {
            MakeReadOnly(database.SqliteFile, false);
            SqliteConnection.ClearAllPools();
        }
        var after = await SendBothAsync(inbound, address.TechnicalAddress, "readonly");
        var storedAfter = await StoredAsync(inbound, "readonly");
        output.WriteLine($"read-only: SMTP {during.Smtp}, webhook {(int)during.Webhook}; stored meanwhile {storedDuring}; " +
            $"writable again: SMTP {after.Smtp}, webhook {(int)after.Webhook}; stored {storedAfter}");

        await AssertRefusedThenAcceptedAsync(during, storedDuring, after, storedAfter, database);
    }

    /// <summary>During the fault: 451 and 503, nothing stored; after it: 250 and 202, both stored; the file intact.</summary>
    private static async Task AssertRefusedThenAcceptedAsync((int Smtp, HttpStatusCode Webhook) during, (int, int, int) storedDuring,
        (int Smtp, HttpStatusCode Webhook) after, (int, int, int) storedAfter, TestDatabase database)
    {
        Assert.Equal(451, during.Smtp);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, during.Webhook);
        Assert.Equal((0, 0, 0), storedDuring);
        Assert.Equal(250, after.Smtp);
        Assert.Equal(HttpStatusCode.Accepted, after.Webhook);
        Assert.Equal((2, 2, 2), storedAfter);
        Assert.Equal("ok", await database.IntegrityCheckAsync());
    }

    [Fact]
    public async Task A_nearly_full_disk_gets_452_at_MAIL_FROM_and_507_before_the_body_and_stores_nothing()
    {
        var free = new DriveInfo(Path.GetTempPath()).AvailableFreeSpace;
        // The floor above the free space: the same as a disk that is nearly full, without filling one.
        await using var inbound = new InboundApp(new Dictionary<string, string?> { ["ConnectiveOne:Smtp:MinFreeDiskBytes"] = (free + (1L << 40)).ToString() });
        var address = await InboundAddresses.AddAsync(inbound.App.Services, "support@full.test");

        var endpoint = await inbound.SmtpEndpointAsync();
        using var raw = await RawSmtpClient.OpenAsync(endpoint);
        var mailFrom = (await raw.CommandAsync("MAIL FROM:<someone@customer.test>"))!;
        var rcpt = (await raw.CommandAsync($"RCPT TO:<{address.TechnicalAddress}>"))!;
        var data = (await raw.CommandAsync("DATA"))!;
        var (_, webhook) = await SendBothAsync(inbound, address.TechnicalAddress, "full", smtp: false);
        var stored = await StoredAsync(inbound, "full");
        output.WriteLine($"floor above the free space: MAIL FROM {mailFrom}; RCPT {rcpt.Code}; DATA {data.Code}; webhook {(int)webhook}; stored {stored}");

        Assert.Equal(452, mailFrom.Code);
        Assert.Contains("4.3.1", mailFrom.Text);
        Assert.NotEqual(354, data.Code);
        Assert.Equal(HttpStatusCode.InsufficientStorage, webhook);
        Assert.Equal((0, 0, 0), stored);
    }

    private static async Task ExecuteAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Read-only even for root (the tests may run as root, where chmod does not stop writes): chattr +i, else chmod.</summary>
    private static void MakeReadOnly(string file, bool on)
    {
        using var chattr = Process.Start(new ProcessStartInfo("chattr", [on ? "+i" : "-i", file]) { RedirectStandardError = true });
        chattr?.WaitForExit();
        if (chattr is not { ExitCode: 0 } && !OperatingSystem.IsWindows())
            File.SetUnixFileMode(file, on ? UnixFileMode.UserRead : UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    /// <summary>One message over SMTP and one over the webhook at the same time; the SMTP reply code and the HTTP status.</summary>
    private static async Task<(int Smtp, HttpStatusCode Webhook)> SendBothAsync(InboundApp inbound, string recipient, string tag, bool smtp = true)
    {
        var smtpTask = smtp ? SmtpAsync(inbound, recipient, CrashSafetyTests.Message(tag + "-smtp", 0)) : Task.FromResult(0);
        using var http = inbound.App.CreateClient();
        using var content = new ByteArrayContent(Bytes(CrashSafetyTests.Message(tag + "-hook", 0)));
        content.Headers.ContentType = new MediaTypeHeaderValue("message/rfc822");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/inbound/mime?recipient={Uri.EscapeDataString(recipient)}") { Content = content };
        request.Headers.Add("X-Webhook-Token", InboundApp.WebhookToken);
        using var response = await http.SendAsync(request);
        return (await smtpTask, response.StatusCode);
    }

    private static async Task<int> SmtpAsync(InboundApp inbound, string recipient, MimeMessage message)
    {
        try
        {
            await inbound.SendAsync(message, recipient);
            return 250;
        }
        catch (SmtpCommandException e)
        {
            return (int)e.StatusCode;
        }
    }

    private static byte[] Bytes(MimeMessage message)
    {
        using var stream = new MemoryStream();
        message.WriteTo(stream);
        return stream.ToArray();
    }

    /// <summary>Messages, raw copies and tickets stored for the test's senders (all three, so a half-stored message shows).</summary>
    private static async Task<(int Messages, int Raw, int Tickets)> StoredAsync(InboundApp inbound, string tag)
    {
        await using var scope = inbound.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var prefix = $"crash-{tag}-";
        var messages = await db.Messages.Where(m => m.MessageIdHeader!.StartsWith(prefix)).Select(m => m.Id).ToListAsync();
        var raw = await db.RawMessages.CountAsync(r => messages.Contains(r.MessageId));
        var tickets = await db.Tickets.CountAsync(t => t.Subject.StartsWith($"Crash {tag}-"));
        return (messages.Count, raw, tickets);
    }
}
