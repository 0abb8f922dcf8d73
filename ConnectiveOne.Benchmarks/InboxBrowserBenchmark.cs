using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Data.Sqlite;
using Microsoft.Playwright;
using MimeKit;

namespace ConnectiveOne.Benchmarks;

/// <summary>
/// What an operator sees: the published app (own process, fresh data folder) receives one new ticket's mail at a
/// time over SMTP while an operator's inbox is open in headless Chromium; how long from the SMTP 250 (MailKit's
/// <c>SendAsync</c> returning in this process) to the new row in that page's DOM (a MutationObserver's timestamp).
/// <para>
/// One clock: both sides read the machine's wall clock as Unix milliseconds, .NET through <c>DateTime.UtcNow</c>, the
/// page through <c>performance.timeOrigin + performance.now()</c> (the wall clock when the page started plus a
/// monotonic clock). The offset between the two is measured before and after the run by reading the page's clock
/// between two .NET readings (its uncertainty is half that round trip) and every sample is corrected by the mean of
/// the two; a sample below zero would mean the alignment is off and is reported, not dropped.
/// </para>
/// </summary>
internal static class InboxBrowserBenchmark
{
    // Each batch of DOM changes: every ticket row's subject seen for the first time gets the batch's time.
    private const string Observe = """
        () => {
          window.c1Seen = {};
          const scan = () => {
            const at = performance.timeOrigin + performance.now();
            document.querySelectorAll('[data-testid=ticket-row] .c1-ticket-subject span').forEach((s) => {
              const key = s.textContent.trim();
              if (!(key in window.c1Seen)) window.c1Seen[key] = at;
            });
          };
          scan();
          new MutationObserver(scan).observe(document.querySelector('[data-testid=ticket-list]'),
            { childList: true, subtree: true, characterData: true });
        }
        """;

    public static async Task RunAsync(int seconds, int rate)
    {
        var root = Path.Combine(Path.GetTempPath(), "c1-bench-inbox");
        var app = await InboxLiveBenchmark.PublishAsync(Path.Combine(root, "publish"));
        var data = Path.Combine(root, "browser-" + Guid.NewGuid().ToString("N")[..8]);
        var (smtpPort, webPort) = (InboxLiveBenchmark.FreePort(), InboxLiveBenchmark.FreePort());
        var url = $"http://127.0.0.1:{webPort}";
        using var server = InboxLiveBenchmark.StartApp(app, data, url, smtpPort);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(url) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", InboxLiveBenchmark.Token);
            await InboxLiveBenchmark.WaitHealthyAsync(http, server);
            var recipient = await ServedAddressAsync(http, data);

            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = Environment.GetEnvironmentVariable("CHROMIUM_PATH") ?? "/usr/bin/chromium",
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
            });
            var context = await browser.NewContextAsync(new BrowserNewContextOptions
            {
                BaseURL = url,
                ViewportSize = new ViewportSize { Width = 1366, Height = 768 },
            });
            var page = await context.NewPageAsync();
            await page.GotoAsync("/account/login?returnUrl=%2Finbox");
            await page.FillAsync("input[name='Input.Email']", "admin@example.test");
            await page.FillAsync("input[name='Input.Password']", "admin-password-1");
            await page.ClickAsync("button[type='submit']");
            await page.WaitForSelectorAsync("body[data-interactive='true']");
            await page.WaitForSelectorAsync("[data-testid=ticket-list]");
            await page.EvaluateAsync(Observe);

            Console.WriteLine($"App {app} (pid {server.Id}); Chromium {browser.Version}; {Environment.ProcessorCount} cores; load average {InboxQueriesBenchmark.LoadAverage()}");
            var offsetBefore = await ClockOffsetAsync(page);
            var run = Guid.NewGuid().ToString("N")[..6];
            Console.WriteLine($"Warm-up: 10 messages (not counted) ...");
            await SendAsync(smtpPort, recipient, $"warmup {run}", 10, rate);
            Console.WriteLine($"Sending {rate} new tickets/s for {seconds} s over one SMTP connection ...");
            var answered = await SendAsync(smtpPort, recipient, run, seconds * rate, rate);
            var last = $"{Subject(run, seconds * rate - 1)}";
            await page.WaitForFunctionAsync($"() => '{last}' in window.c1Seen", null, new() { Timeout = 30_000 });
            var offsetAfter = await ClockOffsetAsync(page);
            var seen = await page.EvaluateAsync<Dictionary<string, double>>("() => window.c1Seen");

            var offset = (offsetBefore.Offset + offsetAfter.Offset) / 2;
            var latencies = new List<double>();
            var missing = 0;
            foreach (var (subject, at) in answered)
            {
                if (seen.TryGetValue(subject, out var shown))
                    latencies.Add(shown - offset - at);
                else
                    missing++;
            }
            Console.WriteLine();
            Console.WriteLine($"Page clock - .NET clock: {offsetBefore.Offset:0.000} ms (± {offsetBefore.Uncertainty:0.000}) before, " +
                              $"{offsetAfter.Offset:0.000} ms (± {offsetAfter.Uncertainty:0.000}) after; corrected by {offset:0.000} ms");
            Console.WriteLine($"{answered.Count} messages; {missing} rows never seen; {latencies.Count(l => l < 0)} negative samples (kept)");
            Console.WriteLine($"SMTP 250 -> row in the open Chromium inbox: {Stats.Of(latencies)}");
            Console.WriteLine($"Load average after: {InboxQueriesBenchmark.LoadAverage()}");
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>
    /// An address served by a bot (the inbox lists routed tickets only). A bot takes only a verified address and there
    /// is no DNS here, so the domain is marked Verified in the app's SQLite file, as a DNS check would leave it.
    /// </summary>
    private static async Task<string> ServedAddressAsync(HttpClient http, string data)
    {
        var created = await http.PostAsJsonAsync("/api/v1/addresses", new { email = "support@acme.example" });
        created.EnsureSuccessStatusCode();
        var address = await created.Content.ReadFromJsonAsync<JsonElement>();
        await using (var db = new SqliteConnection($"Data Source={Path.Combine(data, "connectiveone.db")}"))
        {
            await db.OpenAsync();
            await using var verify = db.CreateCommand();
            verify.CommandText = "UPDATE Domains SET Status = 'Verified' WHERE Name = 'acme.example'";
            if (await verify.ExecuteNonQueryAsync() != 1)
                throw new InvalidOperationException("The domain acme.example is not in the app's database.");
        }
        var bot = await http.PostAsJsonAsync("/api/v1/bots", new { name = "Support" });
        bot.EnsureSuccessStatusCode();
        var botId = (await bot.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        (await http.PutAsJsonAsync($"/api/v1/bots/{botId}/email", new { addressId = address.GetProperty("id").GetString() })).EnsureSuccessStatusCode();
        return address.GetProperty("technicalAddress").GetString()!;
    }

    /// <summary>The page's clock minus this process's, read between two of ours; uncertainty is half the round trip.</summary>
    private static async Task<(double Offset, double Uncertainty)> ClockOffsetAsync(IPage page)
    {
        var best = (Offset: 0.0, Uncertainty: double.MaxValue);
        for (var i = 0; i < 20; i++)
        {
            var before = NowMs();
            var browser = await page.EvaluateAsync<double>("() => performance.timeOrigin + performance.now()");
            var after = NowMs();
            var half = (after - before) / 2;
            if (half < best.Uncertainty)
                best = (browser - (before + half), half);
        }
        return best;
    }

    private static double NowMs() => (DateTime.UtcNow - DateTime.UnixEpoch).TotalMilliseconds;

    private static string Subject(string run, int index) => $"Browser latency {run}-{index}";

    /// <summary>Sends <paramref name="count"/> new tickets at <paramref name="rate"/> a second; returns each subject with the time of its 250.</summary>
    private static async Task<List<(string Subject, double AnsweredAt)>> SendAsync(int port, string recipient, string run, int count, int rate)
    {
        var answered = new List<(string, double)>();
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.None);
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            var due = start + (long)(i * (double)Stopwatch.Frequency / rate);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (wait > TimeSpan.Zero)
                await Task.Delay(wait);
            var message = new MimeMessage();
            message.From.Add(new MailboxAddress($"Customer {i}", $"customer{i}.{run.Replace(' ', '-')}@customers.test"));
            message.To.Add(MailboxAddress.Parse(recipient));
            message.Subject = Subject(run, i);
            message.Body = new TextPart("plain") { Text = "Hello, where is my order?" };
            await client.SendAsync(message);
            answered.Add((message.Subject, NowMs()));
        }
        await client.DisconnectAsync(true);
        return answered;
    }
}
