using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Threading.Channels;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.AspNetCore.SignalR.Client;
using MimeKit;

namespace ConnectiveOne.Benchmarks;

/// <summary>
/// The real app (published in Release, started as its own process on a fresh data folder) receives mail over SMTP
/// at a fixed rate while a SignalR client listens on <c>/hubs/live</c>: how long from the SMTP 250 (MailKit's
/// <c>SendAsync</c> returning) to the <c>messageAdded</c> event for that message's ticket. Two of three messages
/// open a new ticket, the third replies (In-Reply-To) to one sent at least two seconds earlier.
/// Target: p95 under 200 ms at 50 messages/s.
/// </summary>
internal static class InboxLiveBenchmark
{
    internal const string Token = "bench-live-token-0123456789abcdef";
    private const int Connections = 8;

    public static async Task RunAsync(int seconds, int rate)
    {
        var root = Path.Combine(Path.GetTempPath(), "c1-bench-inbox");
        var app = await PublishAsync(Path.Combine(root, "publish"));
        var data = Path.Combine(root, "live-" + Guid.NewGuid().ToString("N")[..8]);
        var (smtpPort, webPort) = (FreePort(), FreePort());
        var url = $"http://127.0.0.1:{webPort}";
        using var server = StartApp(app, data, url, smtpPort);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(url) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            await WaitHealthyAsync(http, server);
            var created = await http.PostAsJsonAsync("/api/v1/addresses", new { email = "support@acme.example" });
            created.EnsureSuccessStatusCode();
            var recipient = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("technicalAddress").GetString()!;

            var events = new ConcurrentDictionary<long, ConcurrentQueue<long>>();
            await using var hub = new HubConnectionBuilder().WithUrl($"{url}/hubs/live?access_token={Token}").Build();
            hub.On<JsonElement>("messageAdded", payload =>
            {
                var at = Stopwatch.GetTimestamp();
                var id = payload.GetProperty("id");
                var ticket = id.ValueKind == JsonValueKind.String ? long.Parse(id.GetString()!) : id.GetInt64();
                events.GetOrAdd(ticket, _ => new ConcurrentQueue<long>()).Enqueue(at);
            });
            await hub.StartAsync();

            Console.WriteLine($"App {app} (pid {server.Id}); SMTP 127.0.0.1:{smtpPort}; {Environment.ProcessorCount} cores; load average {InboxQueriesBenchmark.LoadAverage()}");
            Console.WriteLine($"Warm-up: {rate} messages/s for 3 s (not counted) ...");
            await SendAsync("warmup", smtpPort, recipient, 3, rate);
            await Task.Delay(TimeSpan.FromSeconds(2));
            Console.WriteLine($"Sending {rate} messages/s for {seconds} s over {Connections} SMTP connections ...");
            var run = Guid.NewGuid().ToString("N")[..6];
            var sent = await SendAsync(run, smtpPort, recipient, seconds, rate);
            await Task.Delay(TimeSpan.FromSeconds(3)); // the last events
            await hub.StopAsync();
            await ReportAsync(http, run, sent, events, seconds);
            Console.WriteLine($"Load average after: {InboxQueriesBenchmark.LoadAverage()}");
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>One message as sent: which ticket root it belongs to (its own index for a new ticket), and when.</summary>
    private sealed record Sent(int Index, int Root, long Scheduled, long Started, long Answered);

    private static async Task<List<Sent>> SendAsync(string run, int port, string recipient, int seconds, int rate)
    {
        var total = seconds * rate;
        var queue = Channel.CreateUnbounded<(int Index, int Root, long Scheduled)>();
        var sent = new ConcurrentBag<Sent>();
        var answeredAt = new long[total];
        var workers = Enumerable.Range(0, Connections).Select(async _ =>
        {
            using var client = new SmtpClient();
            await client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.None);
            await foreach (var (index, root, scheduled) in queue.Reader.ReadAllAsync())
            {
                var message = Compose(run, index, root, recipient);
                var started = Stopwatch.GetTimestamp();
                await client.SendAsync(message);
                var answered = Stopwatch.GetTimestamp();
                Volatile.Write(ref answeredAt[index], answered);
                sent.Add(new Sent(index, root, scheduled, started, answered));
            }
            await client.DisconnectAsync(true);
        }).ToList();

        // Open loop: message i is due at start + i/rate whatever happened to the earlier ones.
        var start = Stopwatch.GetTimestamp();
        var random = new Random(7);
        var replies = new Dictionary<int, int>();
        for (var i = 0; i < total; i++)
        {
            var due = start + (long)(i * (double)Stopwatch.Frequency / rate);
            while (Stopwatch.GetTimestamp() < due)
                await Task.Delay(TimeSpan.FromTicks(Math.Max(0, (due - Stopwatch.GetTimestamp()) * TimeSpan.TicksPerSecond / Stopwatch.Frequency)));
            var root = i;
            if (i % 3 == 2)
            {
                // A reply to a ticket whose first message was answered at least two seconds ago (at most 3 replies each).
                var candidate = random.Next(Math.Max(1, i - 10 * rate), Math.Max(1, i - 2 * rate));
                candidate -= candidate % 3; // a root (index % 3 != 2) ...
                if (i > 3 * rate && Volatile.Read(ref answeredAt[candidate]) != 0 && replies.GetValueOrDefault(candidate) < 3)
                {
                    root = candidate;
                    replies[candidate] = replies.GetValueOrDefault(candidate) + 1;
                }
            }
            queue.Writer.TryWrite((i, root, due));
        }
        queue.Writer.Complete();
        await Task.WhenAll(workers);
        var elapsed = Stopwatch.GetElapsedTime(start);
        Console.WriteLine($"  sent {total} messages in {elapsed.TotalSeconds:0.0} s ({total / elapsed.TotalSeconds:0.0} messages/s)");
        return [.. sent.OrderBy(s => s.Answered)];
    }

    private static MimeMessage Compose(string run, int index, int root, string recipient)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress($"Customer {root}", $"customer{root}.{run}@customers.test"));
        message.To.Add(MailboxAddress.Parse(recipient));
        message.Subject = root == index ? SubjectOf(run, root) : "Re: " + SubjectOf(run, root);
        message.MessageId = MessageIdOf(run, index);
        if (root != index)
            message.InReplyTo = MessageIdOf(run, root);
        message.Date = DateTimeOffset.UtcNow;
        message.Body = new TextPart("plain")
        {
            Text = $"Hello,\n\nmy order {100_000 + index} has not arrived yet. The tracking page has not changed since Monday.\n" +
                   "Could you please look into it?\n\nKind regards,\nCustomer " + root,
        };
        return message;
    }

    private static string SubjectOf(string run, int root) => $"Order question {run}-{root}";

    private static string MessageIdOf(string run, int index) => $"m{index}.{run}@customers.test";

    /// <summary>
    /// Maps each message to its ticket (by the first message's subject) and to the n-th messageAdded of that ticket
    /// (messages of one ticket are seconds apart, so their order is their events' order).
    /// </summary>
    private static async Task ReportAsync(HttpClient http, string run, List<Sent> sent, ConcurrentDictionary<long, ConcurrentQueue<long>> events, int seconds)
    {
        var ticketOfSubject = new Dictionary<string, long>();
        for (var page = 1; ; page++)
        {
            var body = await http.GetFromJsonAsync<JsonElement>($"/api/v1/tickets?page={page}&pageSize=200");
            var items = body.GetProperty("items").EnumerateArray().ToList();
            foreach (var item in items)
                ticketOfSubject[item.GetProperty("subject").GetString()!] = item.GetProperty("id").GetInt64();
            if (items.Count < 200)
                break;
        }

        var latencies = new List<double>();
        var toAnswer = new List<double>();
        var lag = new List<double>();
        var ordinal = new Dictionary<long, int>();
        int unmatched = 0, early = 0;
        foreach (var s in sent)
        {
            toAnswer.Add(Ms(s.Answered - s.Started));
            lag.Add(Ms(s.Started - s.Scheduled));
            if (!ticketOfSubject.TryGetValue(SubjectOf(run, s.Root), out var ticket) || !events.TryGetValue(ticket, out var arrivals))
            {
                unmatched++;
                continue;
            }
            var n = ordinal.GetValueOrDefault(ticket);
            ordinal[ticket] = n + 1;
            var times = arrivals.ToArray();
            if (n >= times.Length)
            {
                unmatched++;
                continue;
            }
            var latency = Ms(times[n] - s.Answered);
            if (latency < 0)
                early++;
            latencies.Add(latency);
        }

        var replyCount = sent.Count(s => s.Root != s.Index);
        Console.WriteLine();
        Console.WriteLine($"{sent.Count} messages ({replyCount} replies) on {ticketOfSubject.Count} tickets; {events.Values.Sum(q => q.Count)} messageAdded events; {unmatched} messages without their event");
        Console.WriteLine($"SMTP 250 -> messageAdded on the hub client: {Stats.Of(latencies)}");
        Console.WriteLine($"  ({early} events arrived before the client had read the 250: the app publishes right after the commit that releases the 250)");
        Console.WriteLine($"DATA start -> SMTP 250 (group commit):     {Stats.Of(toAnswer)}");
        Console.WriteLine($"send started behind schedule by:           {Stats.Of(lag)}");
        Console.WriteLine($"(Target: 250 -> messageAdded p95 < 200 ms at 50 messages/s over {seconds} s.)");
    }

    private static double Ms(long stopwatchTicks) => stopwatchTicks * 1000.0 / Stopwatch.Frequency;

    /// <summary>Publishes ConnectiveOne.Console in Release (incremental) and returns the dll to run.</summary>
    internal static async Task<string> PublishAsync(string output)
    {
        var repo = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(repo, "ConnectiveOne.sln")))
            repo = Path.GetDirectoryName(repo.TrimEnd(Path.DirectorySeparatorChar)) ?? throw new InvalidOperationException("Run from the repository.");
        Console.WriteLine($"Publishing ConnectiveOne.Console (Release) to {output} ...");
        using var publish = Process.Start(new ProcessStartInfo("dotnet",
            ["publish", Path.Combine(repo, "ConnectiveOne.Console"), "-c", "Release", "-o", output, "-nologo", "-v", "q"])
        { RedirectStandardOutput = true })!;
        var log = await publish.StandardOutput.ReadToEndAsync();
        await publish.WaitForExitAsync();
        if (publish.ExitCode != 0)
            throw new InvalidOperationException("dotnet publish failed:\n" + log);
        return Path.Combine(output, "ConnectiveOne.Console.dll");
    }

    internal static Process StartApp(string app, string data, string url, int smtpPort)
    {
        Directory.CreateDirectory(data);
        var start = new ProcessStartInfo("dotnet", [app])
        {
            WorkingDirectory = data,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["ConnectiveOne__DataDirectory"] = data,
                ["ConnectiveOne__Smtp__Listen"] = $"127.0.0.1:{smtpPort}",
                ["ConnectiveOne__InboundDomain"] = "inbound.test",
                ["ConnectiveOne__Bootstrap__AdminEmail"] = "admin@example.test",
                ["ConnectiveOne__Bootstrap__AdminPassword"] = "admin-password-1",
                ["ConnectiveOne__Bootstrap__ApiToken"] = Token,
                ["ASPNETCORE_URLS"] = url,
            },
        };
        var process = Process.Start(start)!;
        // The app's console log is drained (it also writes data/logs); unread pipes would block it.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine("app: " + e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    internal static async Task WaitHealthyAsync(HttpClient http, Process server)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(90))
        {
            if (server.HasExited)
                throw new InvalidOperationException($"The app exited with {server.ExitCode}.");
            try
            {
                if ((await http.GetAsync("/health")).StatusCode == HttpStatusCode.OK)
                    return;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            await Task.Delay(200);
        }
        throw new TimeoutException("The app did not answer /health within 90 s.");
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
