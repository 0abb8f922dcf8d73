using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.TestSupport;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.EntityFrameworkCore;
using MimeKit;
using Xunit.Abstractions;

namespace ConnectiveOne.Tests.Reliability;

/// <summary>
/// "A message is either refused or kept", across <c>kill -9</c>: the app runs as a real process (one data folder
/// for all its lives) and is killed at seeded random moments while senders push mail over SMTP and the MIME
/// webhook. Senders behave like MTAs: whatever did not get 250/2xx is sent again, with the same bytes, after the
/// restart. Replies in the outbox must all reach the relay after restarts (at-least-once: duplicates are counted).
/// </summary>
[Trait("Category", "Reliability")]
[RunsLong(85)]
public sealed class CrashSafetyTests(ITestOutputHelper output)
{
    internal const string WebhookToken = "crash-webhook-token-0123456789";
    internal const int Seed = 6001;

    [Fact]
    public async Task Kill_9_during_SMTP_and_webhook_bursts_loses_nothing_and_stores_nothing_twice()
    {
        var kills = Soak.Rounds(12, 100);
        var random = new Random(Seed);
        await using var app = new AppProcess { ShortLived = true };
        app.Environment["ConnectiveOne__Inbound__WebhookToken"] = WebhookToken;
        await app.StartAsync();
        var address = await InboundAddresses.AddAsync(app.Database, "support@crash.test");

        List<Sender> senders =
        [
            .. Enumerable.Range(0, 3).Select(i => new Sender($"smtp{i}", Webhook: false)),
            .. Enumerable.Range(0, 3).Select(i => new Sender($"hook{i}", Webhook: true)),
        ];
        var starting = new System.Diagnostics.Stopwatch();
        for (var life = 0; life <= kills; life++)
        {
            if (life > 0)
            {
                starting.Start();
                await app.StartAsync();
                starting.Stop();
            }
            var final = life == kills;
            // The last life only finishes what is pending: every sender's unacknowledged message is sent until it gets 2xx.
            var running = senders.Select(s => Task.Run(() => s.RunAsync(app, address.TechnicalAddress, untilOneAcknowledged: final))).ToList();
            if (!final)
            {
                // A random moment once this life is taking mail (its first 2xx), so every kill lands mid-burst.
                var before = senders.Sum(s => s.Acknowledged.Count);
                for (var i = 0; i < 200 && senders.Sum(s => s.Acknowledged.Count) == before; i++)
                    await Task.Delay(50);
                await Task.Delay(random.Next(20, 600));
                await app.KillAsync();
            }
            await Task.WhenAll(running);
        }
        await app.KillAsync();

        var acknowledged = senders.SelectMany(s => s.Acknowledged).ToList();
        var attempted = senders.SelectMany(s => s.Attempted).ToHashSet(StringComparer.Ordinal);
        List<string> storedIds;
        List<string> ticketSubjects;
        await using (var db = app.Database.OpenContext())
        {
            storedIds = await db.Messages.Where(m => m.Direction == MessageDirection.Inbound).Select(m => m.MessageIdHeader!).ToListAsync();
            ticketSubjects = await db.Tickets.Select(t => t.Subject).ToListAsync();
        }
        var stored = storedIds.ToHashSet(StringComparer.Ordinal);
        var lost = acknowledged.Where(id => !stored.Contains(id)).ToList();
        var duplicated = storedIds.GroupBy(id => id).Count(g => g.Count() > 1);
        var duplicatedTickets = ticketSubjects.GroupBy(s => s).Count(g => g.Count() > 1);
        var unknown = stored.Count(id => !attempted.Contains(id));
        var integrity = await app.Database.IntegrityCheckAsync();
        var resent = senders.Sum(s => s.Resent);
        output.WriteLine($"kills {kills}; acknowledged {acknowledged.Count} (SMTP {senders.Where(s => !s.Webhook).Sum(s => s.Acknowledged.Count)}, " +
            $"webhook {senders.Where(s => s.Webhook).Sum(s => s.Acknowledged.Count)}); sent again after a cut {resent}; stored {stored.Count}; " +
            $"lost {lost.Count}; duplicated messages {duplicated}; duplicated tickets {duplicatedTickets}; unexpected replies {senders.Sum(s => s.Unexpected)}; " +
            $"integrity {integrity}; average restart until /health {starting.Elapsed.TotalSeconds / Math.Max(1, kills):0.0} s");

        Assert.True(acknowledged.Count >= kills * 5, $"only {acknowledged.Count} messages acknowledged: the bursts did not run");
        Assert.True(lost.Count == 0, $"{lost.Count} of {acknowledged.Count} acknowledged messages were lost, e.g. {lost.FirstOrDefault()}");
        Assert.Equal(0, duplicated);
        Assert.Equal(0, duplicatedTickets);
        Assert.Equal(0, unknown);
        Assert.Equal(acknowledged.Count, stored.Count);
        Assert.Equal(0, senders.Sum(s => s.Unexpected));
        Assert.Equal("ok", integrity);
    }

    /// <summary>A small message with a fixed Message-ID (the same bytes every time it is sent again).</summary>
    internal static MimeMessage Message(string sender, int index)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse($"{sender}@customer.test"));
        message.To.Add(MailboxAddress.Parse("support@crash.test"));
        message.Subject = $"Crash {sender} {index}";
        message.MessageId = $"crash-{sender}-{index}@customer.test";
        message.Date = new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
        message.Body = new TextPart("plain") { Text = $"Message {index} from {sender}.\r\n" + new string('x', 400) };
        return message;
    }

    internal static async Task<HttpResponseMessage> PostMimeAsync(HttpClient http, string recipient, MimeMessage message)
    {
        using var bytes = new MemoryStream();
        await message.WriteToAsync(bytes);
        var content = new ByteArrayContent(bytes.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("message/rfc822");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/inbound/mime?recipient={Uri.EscapeDataString(recipient)}") { Content = content };
        request.Headers.Add("X-Webhook-Token", WebhookToken);
        return await http.SendAsync(request);
    }

    /// <summary>One sending MTA: one connection, messages in order, each sent until it gets 2xx.</summary>
    private sealed class Sender(string name, bool Webhook)
    {
        private int _next;

        public bool Webhook { get; } = Webhook;
        public List<string> Acknowledged { get; } = [];
        public HashSet<string> Attempted { get; } = new(StringComparer.Ordinal);

        /// <summary>Messages sent again because the app died before it answered.</summary>
        public int Resent { get; private set; }

        /// <summary>Answers other than 2xx or a temporary refusal (a 5xx would mean a refused message: not expected here).</summary>
        public int Unexpected { get; private set; }

        public async Task RunAsync(AppProcess app, string recipient, bool untilOneAcknowledged)
        {
            try
            {
                if (Webhook)
                    await WebhookAsync(app, recipient, untilOneAcknowledged);
                else
                    await SmtpAsync(app, recipient, untilOneAcknowledged);
            }
            catch (Exception e) when (e is IOException or HttpRequestException or TaskCanceledException or OperationCanceledException
                                          or System.Net.Sockets.SocketException or MailKit.ServiceNotConnectedException or MailKit.ProtocolException)
            {
                // The kill cut the connection; whatever had no answer is sent again in the next life.
            }
        }

        private async Task SmtpAsync(AppProcess app, string recipient, bool once)
        {
            using var client = new SmtpClient { Timeout = 30_000 };
            await client.ConnectAsync("127.0.0.1", app.SmtpPort, SecureSocketOptions.None);
            while (true)
            {
                var message = Current();
                try
                {
                    await client.SendAsync(message, MailboxAddress.Parse($"{name}@customer.test"), [MailboxAddress.Parse(recipient)]);
                }
                catch (SmtpCommandException e) when ((int)e.StatusCode is >= 400 and < 500)
                {
                    await Task.Delay(100);
                    continue;
                }
                catch (SmtpCommandException)
                {
                    Unexpected++;
                    return;
                }
                Acknowledge(message);
                if (once)
                    return;
            }
        }

        private async Task WebhookAsync(AppProcess app, string recipient, bool once)
        {
            using var http = new HttpClient { BaseAddress = new Uri(app.BaseUrl), Timeout = TimeSpan.FromSeconds(30) };
            while (true)
            {
                var message = Current();
                using var response = await PostMimeAsync(http, recipient, message);
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    await Task.Delay(100);
                    continue;
                }
                if (response.StatusCode != HttpStatusCode.Accepted)
                {
                    Unexpected++;
                    return;
                }
                Acknowledge(message);
                if (once)
                    return;
            }
        }

        private MimeMessage Current()
        {
            var message = Message(name, _next);
            if (!Attempted.Add(message.MessageId!))
                Resent++;
            return message;
        }

        private void Acknowledge(MimeMessage message)
        {
            Acknowledged.Add(message.MessageId!);
            _next++;
        }
    }
}

/// <summary>
/// The outbox across <c>kill -9</c>: replies queued while the relay refuses (4xx) are delivered after restarts, and
/// kills timed right after the relay's 250 measure how often a reply is sent twice (the relay had it, our commit
/// of "sent" had not happened): at-least-once delivery, as with every MTA.
/// </summary>
[Trait("Category", "Reliability")]
[RunsLong(45)]
public sealed class OutboxCrashTests(ITestOutputHelper output)
{
    private const string WebhookToken = CrashSafetyTests.WebhookToken;

    [Fact]
    public async Task Replies_queued_while_the_relay_refuses_or_the_app_dies_are_all_delivered_after_restarts()
    {
        var replies = Soak.Rounds(12, 60);
        var maxKills = Soak.Rounds(10, 50);
        var random = new Random(CrashSafetyTests.Seed);
        await using var relay = await CaptureRelay.StartAsync();
        relay.RefuseAll(451, "4.3.0 Try again later");
        await using var app = new AppProcess { ShortLived = true };
        app.Environment["ConnectiveOne__Inbound__WebhookToken"] = WebhookToken;
        app.Environment["ConnectiveOne__Outbound__Host"] = "127.0.0.1";
        app.Environment["ConnectiveOne__Outbound__Port"] = relay.Port.ToString();
        app.Environment["ConnectiveOne__Outbound__Security"] = "None";
        app.Environment["ConnectiveOne__Outbound__RetryDelays"] = "00:00:01";
        app.Environment["ConnectiveOne__Outbound__PollInterval"] = "00:00:01";
        await app.StartAsync();
        var address = await InboundAddresses.AddAsync(app.Database, "help@crash.test");

        using var http = new HttpClient { BaseAddress = new Uri(app.BaseUrl), Timeout = TimeSpan.FromSeconds(30) };
        var inbound = await CrashSafetyTests.PostMimeAsync(http, address.TechnicalAddress, CrashSafetyTests.Message("customer", 0));
        Assert.Equal(HttpStatusCode.Accepted, inbound.StatusCode);
        var ticketId = (await inbound.Content.ReadFromJsonAsync<Accepted>())!.Deliveries[0].TicketId!.Value;
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestApp.AdminToken);
        for (var i = 0; i < replies; i++)
        {
            var queued = await http.PostAsJsonAsync($"/api/v1/tickets/{ticketId}/replies", new { text = $"Reply {i}" });
            Assert.Equal(HttpStatusCode.Accepted, queued.StatusCode);
        }
        // The relay refuses (4xx) the first attempt; the app dies with everything still queued.
        for (var i = 0; i < 300 && relay.RefusedCount == 0; i++)
            await Task.Delay(50);
        Assert.True(relay.RefusedCount > 0, "the outbox never tried the relay");
        await app.KillAsync();

        // Now the relay accepts, 150 ms after the data; each life is killed 0–300 ms after the relay's 250, around
        // the moment the app records "sent" (after QUIT and its commit).
        relay.AcceptAll();
        relay.AnswerDelay = TimeSpan.FromMilliseconds(150);
        TaskCompletionSource? armed = null;
        relay.Answering += delivered =>
        {
            if (Interlocked.Exchange(ref armed, null) is { } killed)
            {
                int offset;
                lock (random)
                    offset = random.Next(0, 301);
                _ = Task.Run(async () =>
                {
                    await Task.Delay(offset);
                    await app.KillAsync();
                    killed.TrySetResult();
                });
            }
        };
        var kills = 0;
        while (kills < maxKills && Distinct(relay.Received) < replies)
        {
            var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref armed, killed);
            try
            {
                await app.StartAsync();
            }
            catch (InvalidOperationException)
            {
                // The outbox delivered before /health answered, and the kill came during the start.
            }
            if (await Task.WhenAny(killed.Task, Task.Delay(TimeSpan.FromSeconds(20))) != killed.Task)
                break;
            kills++;
        }
        Volatile.Write(ref armed, null);

        // The last life delivers the rest.
        await app.StartAsync();
        List<DeliveryState> states = [];
        for (var i = 0; i < 600; i++)
        {
            await using (var db = app.Database.OpenContext())
                states = await db.Outbox.Select(m => m.State).ToListAsync();
            if (states.Count == replies && states.All(s => s == DeliveryState.Sent))
                break;
            await Task.Delay(100);
        }
        await app.KillAsync();

        var received = relay.Received.Where(m => m.Message.Subject?.Contains("Crash", StringComparison.Ordinal) == true).ToList();
        var duplicates = received.Count - Distinct(received);
        output.WriteLine($"replies {replies}; refused attempts before the first kill {relay.RefusedCount}; kills around a 250 {kills}; " +
            $"received {received.Count}, distinct {Distinct(received)}: at-least-once, {duplicates} duplicates in {kills} kills; " +
            $"outbox rows Sent {states.Count(s => s == DeliveryState.Sent)} of {states.Count}");

        Assert.True(kills >= Math.Min(5, replies), $"only {kills} kills landed around a delivery");
        Assert.Equal(replies, states.Count);
        Assert.All(states, s => Assert.Equal(DeliveryState.Sent, s));
        Assert.Equal(replies, Distinct(received));
        Assert.Equal("ok", await app.Database.IntegrityCheckAsync());
    }

    private static int Distinct(IEnumerable<CapturedMail> mails) => mails.Select(m => m.Message.MessageId).Distinct(StringComparer.Ordinal).Count();

    private sealed record Accepted(List<Delivery> Deliveries);

    private sealed record Delivery(long? TicketId, long? MessageId);
}
