using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Playwright;
using MimeKit;

namespace ConnectiveOne.Benchmarks;

/// <summary>
/// Issue #12's flood, then an operator opening it: the real app (published in Release, its own process) receives
/// one ticket of <c>messages</c> mails of ~20 KB each from one sender over SMTP, and Chromium opens
/// <c>/inbox/{id}</c> <c>opens</c> times, each in a fresh signed-in page: time from navigation until the thread shows
/// its last 50 messages. Then <c>viewers</c> pages hold the ticket open at once: the app's resident memory (VmRSS) before
/// and with them open, divided by their number. Targets: first render &lt; 2 s, &lt; 20 MB per viewer.
/// </summary>
internal static class TicketOpenBenchmark
{
    private const string Sender = "flood@customers.test";
    private const int BodyBytes = 20_000;
    private const int Connections = 8;

    public static async Task RunAsync(int opens, int viewers, int messages)
    {
        var root = Path.Combine(Path.GetTempPath(), "c1-bench-inbox");
        var app = await InboxLiveBenchmark.PublishAsync(Path.Combine(root, "publish"));
        var data = Path.Combine(root, "ticket-open-" + Guid.NewGuid().ToString("N")[..8]);
        var (smtpPort, webPort) = (InboxLiveBenchmark.FreePort(), InboxLiveBenchmark.FreePort());
        var url = $"http://127.0.0.1:{webPort}";
        // The cap would split the flood into tickets of 1,000: lifted here, so one ticket holds all of it.
        using var server = InboxLiveBenchmark.StartApp(app, data, url, smtpPort, new Dictionary<string, string>
        {
            ["ConnectiveOne__Tickets__MaxMessagesPerTicket"] = (messages + 1).ToString(CultureInfo.InvariantCulture),
        });
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(url) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", InboxLiveBenchmark.Token);
            await InboxLiveBenchmark.WaitHealthyAsync(http, server);
            var created = await http.PostAsJsonAsync("/api/v1/addresses", new { email = "support@acme.example" });
            created.EnsureSuccessStatusCode();
            var address = await created.Content.ReadFromJsonAsync<JsonElement>();
            // No bot: /inbox/{id} opens any ticket (a bot needs a verified domain, which takes DNS).

            Console.WriteLine($"App {app} (pid {server.Id}); {Environment.ProcessorCount} cores; load average {InboxQueriesBenchmark.LoadAverage()}");
            var seeding = Stopwatch.StartNew();
            await SeedAsync(smtpPort, address.GetProperty("technicalAddress").GetString()!, messages);
            var list = await http.GetFromJsonAsync<JsonElement>("/api/v1/tickets?status=Open");
            var ticket = list.GetProperty("items").EnumerateArray().Single();
            var ticketId = ticket.GetProperty("id").GetInt64();
            Console.WriteLine($"Seeded ticket #{ticketId} with {ticket.GetProperty("messageCount").GetInt32()} messages of ~{BodyBytes / 1000} KB in {seeding.Elapsed.TotalSeconds:0} s");

            var api = Stopwatch.StartNew();
            var page = await http.GetByteArrayAsync($"/api/v1/tickets/{ticketId}");
            Console.WriteLine($"GET /api/v1/tickets/{ticketId} (default page): {page.Length / 1024.0:0} KB in {api.Elapsed.TotalMilliseconds:0} ms");

            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = Environment.GetEnvironmentVariable("CHROMIUM_PATH") ?? "/usr/bin/chromium",
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
            });
            var state = await SignInAsync(browser, url);

            // Warm-up (JIT, first circuit), not counted.
            await using (var warm = await OpenAsync(browser, url, state, ticketId))
            {
            }
            var timings = new List<double>();
            for (var i = 0; i < opens; i++)
            {
                await using var open = await OpenAsync(browser, url, state, ticketId);
                timings.Add(open.FirstRenderMs);
            }
            Console.WriteLine($"Open #{ticketId} to its last message rendered ({opens} opens): {Stats.Of(timings)}");

            await Task.Delay(TimeSpan.FromSeconds(3)); // the warm-up pages' circuits go
            var before = Rss(server.Id);
            var held = new List<Opened>();
            for (var i = 0; i < viewers; i++)
                held.Add(await OpenAsync(browser, url, state, ticketId));
            await Task.Delay(TimeSpan.FromSeconds(3));
            var with = Rss(server.Id);
            Console.WriteLine($"App RSS: {before / 1048576.0:0} MB before, {with / 1048576.0:0} MB with {viewers} viewers on #{ticketId}: " +
                              $"{(with - before) / 1048576.0 / viewers:0.0} MB per viewer");
            foreach (var open in held)
                await open.DisposeAsync();
            Console.WriteLine("(Targets: first render < 2 s; < 20 MB of server memory per viewer.)");
            Console.WriteLine($"Load average after: {InboxQueriesBenchmark.LoadAverage()}");
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>One sender, one subject: threading (sender + subject) puts every message into the same ticket.</summary>
    private static async Task SeedAsync(int port, string recipient, int messages)
    {
        var body = new StringBuilder();
        while (body.Length < BodyBytes)
            body.Append("Please look at order 20931 again, the parcel still has not arrived and nobody answers. ");
        var text = body.ToString(0, BodyBytes);
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, Connections).Select(async _ =>
        {
            using var client = new SmtpClient();
            await client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.None);
            int n;
            while ((n = Interlocked.Increment(ref next)) <= messages)
            {
                var message = new MimeMessage();
                message.From.Add(MailboxAddress.Parse(Sender));
                message.To.Add(MailboxAddress.Parse("support@acme.example"));
                message.Subject = "Where is my order?";
                message.MessageId = $"flood-{n}@customers.test";
                message.Body = new TextPart("plain") { Text = $"#{n}\n{text}" };
                await client.SendAsync(message, MailboxAddress.Parse(Sender), [MailboxAddress.Parse(recipient)]);
            }
            await client.DisconnectAsync(true);
        }));
    }

    private static async Task<string> SignInAsync(IBrowser browser, string url)
    {
        await using var context = await browser.NewContextAsync(new() { BaseURL = url });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/account/login");
        await page.FillAsync("input[name='Input.Email']", "admin@example.test");
        await page.FillAsync("input[name='Input.Password']", "admin-password-1");
        await page.ClickAsync("button[type='submit']");
        await page.WaitForURLAsync(u => !u.Contains("/account/login"));
        return await context.StorageStateAsync();
    }

    private sealed class Opened(IBrowserContext context, double firstRenderMs) : IAsyncDisposable
    {
        public double FirstRenderMs => firstRenderMs;

        public ValueTask DisposeAsync() => context.DisposeAsync();
    }

    /// <summary>A fresh signed-in page on the ticket: milliseconds from navigation until the newest message is in the thread.</summary>
    private static async Task<Opened> OpenAsync(IBrowser browser, string url, string state, long ticketId)
    {
        var context = await browser.NewContextAsync(new() { BaseURL = url, StorageState = state, ViewportSize = new() { Width = 1366, Height = 768 } });
        var page = await context.NewPageAsync();
        var sw = Stopwatch.StartNew();
        await page.GotoAsync($"/inbox/{ticketId}");
        // The snapshot renders in one go: the page is done when the thread holds the last page (50, or all if fewer).
        await page.WaitForFunctionAsync("() => document.querySelectorAll(\"[data-testid='ticket-thread'] [data-testid='message']\").length >= 50",
            null, new() { Timeout = 120_000, PollingInterval = 10 });
        return new Opened(context, sw.Elapsed.TotalMilliseconds);
    }

    private static long Rss(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }
}
