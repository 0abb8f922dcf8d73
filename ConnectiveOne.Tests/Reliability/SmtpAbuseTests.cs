using System.Diagnostics;
using System.Net;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using Xunit.Abstractions;

namespace ConnectiveOne.Tests.Reliability;

/// <summary>
/// Hostile SMTP against the real listener over raw sockets: a message is either refused or kept, never relayed,
/// never split into two, and the listener stays up for the next sender. Figures go to docs/RELIABILITY.md §3.
/// </summary>
[Trait("Category", "Reliability")]
[RunsLong(25)]
public sealed class SmtpAbuseTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int CommandTimeoutSeconds = 2;
    private const int MaxRecipients = 100;
    private const int MaxSessionsPerAddress = 32;

    private readonly InboundApp _inbound = new(new Dictionary<string, string?>
    {
        ["ConnectiveOne:Smtp:MaxMessageBytes"] = "200000",
        ["ConnectiveOne:Smtp:CommandTimeoutSeconds"] = CommandTimeoutSeconds.ToString(),
        ["ConnectiveOne:Smtp:MaxRecipients"] = MaxRecipients.ToString(),
        ["ConnectiveOne:Smtp:MaxSessions"] = "64",
        ["ConnectiveOne:Smtp:MaxSessionsPerAddress"] = MaxSessionsPerAddress.ToString(),
        // 127.0.0.2-4 share a /24: the per-network cap is SmtpFairShareTests' subject, not these tests'.
        ["ConnectiveOne:Smtp:MaxSessionsPerNetwork"] = "64",
    });
    private IPEndPoint _smtp = null!;

    public async Task InitializeAsync()
    {
        _inbound.App.StartKestrel(); // a real socket for /health during the connection storm
        _smtp = await _inbound.SmtpEndpointAsync();
    }

    public async Task DisposeAsync() => await _inbound.DisposeAsync();

    [Fact]
    public async Task Relay_attempts_are_all_refused_and_nothing_is_stored_or_sent()
    {
        var ours = await AddAddressAsync("relay");
        var local = ours.TechnicalAddress[..ours.TechnicalAddress.IndexOf('@')];
        // Each names a mailbox that is not ours: every one must be refused.
        string[] foreign =
        [
            "<victim@gmail.com>",
            "<victim@example.org>",
            $"<{local}@sub.inbound.localhost>",
            $"<{local}@inbound.localhost.evil.example>",
            "<victim%gmail.com@inbound.localhost>",
            $"<{local}%gmail.com@inbound.localhost>",
            "<victim@gmail.com@inbound.localhost>",
            $"<{local}@@inbound.localhost>",
            "<@@inbound.localhost>",
            "<victim!gmail.com@inbound.localhost>",
            "<gmail.com!victim@inbound.localhost>",
            "<postmaster>",
            $"<{local}>",
            "<>",
            "<\"victim@gmail.com\"@inbound.localhost>",
            "<\"victim%gmail.com\"@inbound.localhost>",
            "<@inbound.localhost:victim@gmail.com>",
            "<@a.example,@b.example:victim@gmail.com>",
            "<victim@[127.0.0.1]>",
            "<victim@[IPv6:::1]>",
            "victim@gmail.com",
            "<victim@gmail.com>\0<x@inbound.localhost>",
            "<victim@gmail.com> <" + local + "@inbound.localhost>",
        ];
        // Our own address in odd dress: the same mailbox by RFC 5321 (a quoted plain local part, a source route,
        // trailing junk), so accepting it is no relay, as long as the message lands in our address and nowhere else.
        string[] oursInDisguise =
        [
            $"<\"{local}\"@inbound.localhost>",
            $"<@a.example,@b.example:{local}@inbound.localhost>",
            $"<{local}@inbound.localhost> <victim@gmail.com>",
            $"<{local.ToUpperInvariant()}@INBOUND.LOCALHOST>",
        ];

        var accepted = new List<string>();
        var oursAccepted = 0;
        foreach (var rcpt in foreign.Concat(oursInDisguise))
        {
            using var client = await RawSmtpClient.OpenAsync(_smtp);
            Assert.Equal(250, (await client.CommandAsync("MAIL FROM:<spammer@example.org>"))?.Code);
            var reply = await client.CommandAsync("RCPT TO:" + rcpt);
            output.WriteLine($"RCPT TO:{rcpt.Replace("\0", "\\0")} -> {reply}");
            if (reply is not { Code: >= 200 and < 300 })
            {
                // docs/RELIABILITY.md: refused with 550 5.1.1, or 502 for what is not a command at all.
                Assert.True(reply is { Code: 550 } && reply.Text.StartsWith("5.1.1", StringComparison.Ordinal) || reply is { Code: 502 },
                    $"RCPT TO:{rcpt.Replace("\0", "\\0")} -> {reply}");
                continue;
            }
            if (foreign.Contains(rcpt))
                accepted.Add(rcpt);
            else
                oursAccepted++;
            Assert.Equal(354, (await client.CommandAsync("DATA"))?.Code);
            Assert.Equal(250, (await client.CommandAsync(Message("Relay me") + "."))?.Code);
        }

        var stored = await ReadAsync(db => db.Messages.Select(m => m.AddressId).ToListAsync());
        output.WriteLine($"Foreign recipients: {foreign.Length}, accepted: {accepted.Count}; our address in disguise: {oursInDisguise.Length}, " +
            $"accepted {oursAccepted}, stored {stored.Count} (all for our address); outbox: {await ReadAsync(db => db.Outbox.CountAsync())}");
        Assert.Empty(accepted);
        Assert.Equal(oursAccepted, stored.Count);
        Assert.All(stored, id => Assert.Equal(ours.Id, id));
        Assert.Equal(0, await ReadAsync(db => db.Outbox.CountAsync()));
    }

    [Fact]
    public async Task The_101st_recipient_gets_452_and_the_message_is_kept_for_the_first_100_only()
    {
        var addresses = new List<InboundAddresses.Created>();
        for (var i = 0; i <= MaxRecipients; i++)
            addresses.Add(await AddAddressAsync($"cap{i}"));

        using var client = await RawSmtpClient.OpenAsync(_smtp);
        // Pipelined, as a real MTA sends them.
        await client.SendAsync("MAIL FROM:<sender@example.org>\r\n" + string.Concat(addresses.Select(a => $"RCPT TO:<{a.TechnicalAddress}>\r\n")));
        var replies = new List<int>();
        for (var i = 0; i <= addresses.Count; i++)
            replies.Add((await client.ReadReplyAsync())!.Code);
        Assert.Equal(250, replies[0]);
        Assert.All(replies.Skip(1).Take(MaxRecipients), code => Assert.Equal(250, code));
        Assert.Equal(452, replies[^1]);

        Assert.Equal(354, (await client.CommandAsync("DATA"))?.Code);
        var stored = await client.CommandAsync(Message("Hundred recipients") + ".");
        Assert.Equal(250, stored?.Code);

        var perAddress = await ReadAsync(db => db.Messages.GroupBy(m => m.AddressId).Select(g => new { g.Key, Count = g.Count() }).ToListAsync());
        Assert.Equal(MaxRecipients, perAddress.Count);
        Assert.All(perAddress, p => Assert.Equal(1, p.Count));
        Assert.DoesNotContain(perAddress, p => p.Key == addresses[^1].Id);
        output.WriteLine($"101 RCPT: 100 x 250, then {replies[^1]}; message stored for {perAddress.Count} addresses, not for the 101st");
    }

    [Fact]
    public async Task Ten_thousand_recipients_end_the_session_cleanly_and_store_nothing()
    {
        var ours = await AddAddressAsync("flood");
        using var client = await RawSmtpClient.OpenAsync(_smtp);
        Assert.Equal(250, (await client.CommandAsync("MAIL FROM:<sender@example.org>"))?.Code);
        // Pipelined in groups of 100, as an MTA fills its window, until the server ends the session.
        var replies = new List<SmtpReply>();
        var closed = false;
        for (var sent = 0; sent < 10_000 && !closed; sent += 100)
        {
            try
            {
                await client.SendAsync(string.Concat(Enumerable.Repeat($"RCPT TO:<{ours.TechnicalAddress}>\r\n", 100)));
            }
            catch (IOException)
            {
                closed = true;
            }
            for (var i = 0; i < 100 && !closed; i++)
            {
                if (await client.ReadReplyAsync() is { } reply)
                    replies.Add(reply);
                else
                    closed = true;
            }
        }
        if (!closed)
        {
            await client.SendAsync("DATA\r\n" + Message("Flood") + ".\r\n");
            replies.AddRange(await client.ReadUntilClosedAsync());
        }

        var codes = replies.GroupBy(r => r.Code).ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine("10,000 RCPT: " + string.Join(", ", codes.OrderBy(c => c.Key).Select(c => $"{c.Value} x {c.Key}")) + "" + (closed ? "; then the server closed the session" : "; the session went on"));
        Assert.Equal(MaxRecipients, codes[250]);
        Assert.True(codes[452] >= 1);
        Assert.Equal(replies.Count, codes[250] + codes[452]);
        Assert.False(codes.ContainsKey(354));
        Assert.Equal(0, await ReadAsync(db => db.Messages.CountAsync(m => m.AddressId == ours.Id)));

        // The listener serves the next sender.
        await _inbound.SendAsync(MimeMessage.CreateFromMailMessage(new System.Net.Mail.MailMessage("a@example.org", "b@example.org", "After the flood", "Still here.")), ours.TechnicalAddress);
        Assert.Equal(1, await ReadAsync(db => db.Messages.CountAsync(m => m.AddressId == ours.Id)));
    }

    [Fact]
    public async Task Data_without_an_accepted_recipient_is_refused()
    {
        using var client = await RawSmtpClient.OpenAsync(_smtp);
        var beforeMail = await client.CommandAsync("DATA");
        Assert.Equal(250, (await client.CommandAsync("MAIL FROM:<sender@example.org>"))?.Code);
        Assert.Equal(550, (await client.CommandAsync("RCPT TO:<nobody@inbound.localhost>"))?.Code);
        var afterRefusedRcpt = await client.CommandAsync("DATA");
        output.WriteLine($"DATA before MAIL -> {beforeMail}; DATA after a refused RCPT -> {afterRefusedRcpt}");

        // docs/RELIABILITY.md: 501 "expected …" both times (SmtpServer's state machine), no 354.
        Assert.Equal(501, beforeMail!.Code);
        Assert.Contains("expected", beforeMail.Text, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(501, afterRefusedRcpt!.Code);
        Assert.Contains("expected", afterRefusedRcpt.Text, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(250, (await client.CommandAsync("NOOP"))?.Code);
        Assert.Equal(0, await ReadAsync(db => db.Messages.CountAsync()));
    }

    [Fact]
    public async Task Overlong_command_lines_are_refused_and_memory_stays_bounded_by_the_size_limit()
    {
        var ours = await AddAddressAsync("longline");
        using (var client = await RawSmtpClient.OpenAsync(_smtp))
        {
            var garbage = await client.CommandAsync(new string('A', 10_000));
            var longRcpt = await client.CommandAsync("MAIL FROM:<sender@example.org>") is { Code: 250 }
                ? await client.CommandAsync($"RCPT TO:<{new string('a', 10_000)}@inbound.localhost>")
                : null;
            output.WriteLine($"10,000-character line -> {garbage?.Code}; 10,000-character RCPT -> {longRcpt?.Code}");
            // docs/RELIABILITY.md: 502 for the line, 550 for the RCPT.
            Assert.Equal(502, garbage!.Code);
            Assert.Equal(550, longRcpt!.Code);
            Assert.Equal(250, (await client.CommandAsync("NOOP"))?.Code);
        }

        // A line that never ends: the server stops buffering at MaxMessageBytes (200 KB here) and closes.
        using (var client = await RawSmtpClient.OpenAsync(_smtp))
        {
            var sending = Task.Run(async () =>
            {
                try
                {
                    await client.SendAsync("NOOP " + new string('B', 1_000_000));
                }
                catch (IOException)
                {
                }
            });
            var replies = await client.ReadUntilClosedAsync();
            await sending;
            output.WriteLine($"1 MB without a line end -> {string.Join("; ", replies)}, then closed");
            Assert.Equal(552, Assert.Single(replies).Code);
        }

        await _inbound.SendAsync(MimeMessage.CreateFromMailMessage(new System.Net.Mail.MailMessage("a@example.org", "b@example.org", "After long lines", "Fine.")), ours.TechnicalAddress);
        Assert.Equal(1, await ReadAsync(db => db.Messages.CountAsync(m => m.AddressId == ours.Id)));
    }

    [Fact]
    public async Task Long_lines_and_nul_bytes_in_data_are_kept_byte_identical()
    {
        var ours = await AddAddressAsync("lenient");
        var messages = new[]
        {
            Message("A 5,000-character line", body: new string('x', 5_000)),
            Message("A 150,000-character line", body: new string('y', 150_000)),
            Message("NUL bytes", body: "before\0after\r\n\0\0\r\nend"),
            Message("Bare LF lines", body: "one\ntwo\nthree"),
        };
        using var client = await RawSmtpClient.OpenAsync(_smtp);
        foreach (var message in messages)
            Assert.Equal(250, (await SendDataAsync(client, ours.TechnicalAddress, message))?.Code);

        var raw = await RawOfAsync(ours.Id);
        Assert.Equal(messages.Length, raw.Count);
        foreach (var message in messages)
            Assert.Contains(raw, r => r.SequenceEqual(System.Text.Encoding.Latin1.GetBytes(message)));

        // A NUL inside a command is a syntax error; the session goes on.
        var nul = await client.CommandAsync("NO\0OP");
        output.WriteLine($"NUL in a command -> {nul}");
        Assert.Equal(502, nul!.Code);
        Assert.Equal(250, (await client.CommandAsync("NOOP"))?.Code);
    }

    [Theory]
    [InlineData("\n.\n")]
    [InlineData("\r\n.\n")]
    [InlineData("\n.\r\n")]
    [InlineData("\r.\r\n")]
    [InlineData("\n..\n")]
    public async Task A_smuggled_end_of_data_never_makes_a_second_message(string fakeEnd)
    {
        var ours = await AddAddressAsync("smuggle");
        var smuggled = $"MAIL FROM:<ceo@bank.example>\r\nRCPT TO:<{ours.TechnicalAddress}>\r\nDATA\r\n" + Message("SMUGGLED");
        var data = Message("Carrier", body: "Hello" + fakeEnd + smuggled);
        using var client = await RawSmtpClient.OpenAsync(_smtp);
        Assert.Equal(250, (await client.CommandAsync("MAIL FROM:<sender@example.org>"))?.Code);
        Assert.Equal(250, (await client.CommandAsync($"RCPT TO:<{ours.TechnicalAddress}>"))?.Code);
        Assert.Equal(354, (await client.CommandAsync("DATA"))?.Code);
        await client.SendAsync(data + ".\r\n");
        Assert.Equal(250, (await client.ReadReplyAsync())?.Code);
        Assert.Equal(221, (await client.CommandAsync("QUIT"))?.Code);

        var stored = await ReadAsync(db => db.Messages.Where(m => m.AddressId == ours.Id).Select(m => m.Subject).ToListAsync());
        Assert.Equal(["Carrier"], stored); // intended 1, stored 1: the fake end stayed inside the message
        var raw = Assert.Single(await RawOfAsync(ours.Id));
        Assert.Equal(System.Text.Encoding.Latin1.GetBytes(data), raw);
    }

    [Fact]
    public async Task Dot_stuffing_on_the_first_line_is_undone_and_an_empty_message_is_refused()
    {
        var ours = await AddAddressAsync("dots");
        using var client = await RawSmtpClient.OpenAsync(_smtp);
        var message = Message("Dots", body: ".second\r\n.third");
        var stuffed = ".." + message.Replace("\r\n.", "\r\n.."); // the first line is ".From: ...", stuffed like the rest
        Assert.Equal(250, (await SendDataAsync(client, ours.TechnicalAddress, stuffed))?.Code);
        var raw = Assert.Single(await RawOfAsync(ours.Id));
        Assert.Equal(System.Text.Encoding.Latin1.GetBytes("." + message), raw);

        // ".\r\n" right after DATA ends an empty message; whatever follows must not be stored as that message.
        Assert.Equal(250, (await client.CommandAsync("MAIL FROM:<sender@example.org>"))?.Code);
        Assert.Equal(250, (await client.CommandAsync($"RCPT TO:<{ours.TechnicalAddress}>"))?.Code);
        Assert.Equal(354, (await client.CommandAsync("DATA"))?.Code);
        await client.SendAsync(".\r\nNOOP\r\n" + Message("After an empty message") + ".\r\n");
        var empty = await client.ReadReplyAsync();
        output.WriteLine($"Empty message then more data -> {empty}");
        Assert.Equal(554, empty!.Code);
        Assert.StartsWith("5.6.0", empty.Text, StringComparison.Ordinal);
        Assert.Single(await RawOfAsync(ours.Id));
    }

    [Fact]
    public async Task Starttls_is_not_advertised_without_tls_and_is_refused()
    {
        using var client = await RawSmtpClient.ConnectAsync(_smtp);
        Assert.Equal(220, (await client.ReadReplyAsync())?.Code);
        var ehlo = await client.CommandAsync("EHLO client.example.org");
        Assert.Equal(250, ehlo?.Code);
        Assert.DoesNotContain(ehlo!.Lines, l => l.StartsWith("STARTTLS", StringComparison.OrdinalIgnoreCase));
        // Pipelined after STARTTLS: without TLS the commands are plain commands, and STARTTLS itself is refused.
        await client.SendAsync("STARTTLS\r\nNOOP\r\n");
        var starttls = await client.ReadReplyAsync();
        Assert.Equal(501, starttls!.Code);
        Assert.Equal(250, (await client.ReadReplyAsync())?.Code);
        output.WriteLine($"EHLO: {ehlo.Text}; STARTTLS -> {starttls}");
    }

    [Fact]
    public async Task Idle_and_slow_sessions_are_closed_after_the_command_timeout()
    {
        var ours = await AddAddressAsync("idle");

        async Task<(string Name, double Seconds, List<SmtpReply> Replies)> Run(string name, Func<RawSmtpClient, CancellationToken, Task> act)
        {
            using var client = await RawSmtpClient.ConnectAsync(_smtp);
            Assert.Equal(220, (await client.ReadReplyAsync())?.Code);
            var clock = Stopwatch.StartNew();
            using var closed = new CancellationTokenSource();
            var acting = act(client, closed.Token);
            var replies = await client.ReadUntilClosedAsync();
            await closed.CancelAsync();
            await acting;
            return (name, clock.Elapsed.TotalSeconds, replies);
        }

        // Never ends the line and never stops on its own: only the server ending the session ends it (the hang guard
        // of ReadUntilClosedAsync fails the test otherwise). A byte every 100 ms from a thread of its own (not the
        // thread pool the server and the test share), so no gap between two bytes comes near the 2 s idle limit: the
        // idle limit never applies, and SmtpServer's limit on one command line is what ends the session.
        static Task Trickle(RawSmtpClient client, CancellationToken closed)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var thread = new Thread(() =>
            {
                try
                {
                    foreach (var c in "MAIL FROM:<slow@example.org".Concat(Enumerable.Repeat('x', int.MaxValue)))
                    {
                        if (closed.IsCancellationRequested)
                            break;
                        client.SendAsync(c.ToString()).GetAwaiter().GetResult();
                        Thread.Sleep(100);
                    }
                }
                catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
                {
                }
                done.TrySetResult();
            }) { IsBackground = true, Name = "SMTP trickle" };
            thread.Start();
            return done.Task;
        }

        var runs = await Task.WhenAll(
            Run("silent after the greeting", (_, _) => Task.CompletedTask),
            Run("silent after EHLO", (c, _) => c.SendAsync("EHLO x\r\n")),
            Run("silent inside DATA", (c, _) => c.SendAsync($"EHLO x\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<{ours.TechnicalAddress}>\r\nDATA\r\nSubject: half\r\n\r\nhalf a mes")),
            Run("a command line trickled a byte at a time, never ended", Trickle),
            // Half a command line right behind EHLO, in one write: the server has it before it starts waiting for the
            // rest, so the idle limit (2 s after that) comes before the command-line limit (3 s): certain, not timed.
            Run("half a command line, then silent", (c, _) => c.SendAsync("EHLO x\r\nMAIL FROM:<half@exa")));

        foreach (var (name, seconds, replies) in runs)
            output.WriteLine($"{name}: closed after {seconds:0.0} s with {(replies.Count == 0 ? "nothing" : replies[^1].ToString())}");
        // Idle: the listener's 421 (SmtpServer's own limit comes a second later).
        Assert.All(runs[..3], run => Assert.Equal(421, run.Replies[^1].Code));
        // The trickle resets the idle clock with every byte, so SmtpServer's limit on one command line ends it with the
        // 221 docs/RELIABILITY.md states; the line was never ended, so it is the session's only reply.
        var trickled = Assert.Single(runs[3].Replies);
        Assert.Equal(221, trickled.Code);
        Assert.StartsWith("Timeout", trickled.Text, StringComparison.Ordinal);
        // Half a line then silence is idleness: the listener's 421 4.4.2, after EHLO's 250.
        Assert.Equal(421, runs[4].Replies[^1].Code);
        Assert.StartsWith("4.4.2", runs[4].Replies[^1].Text, StringComparison.Ordinal);
        Assert.Equal(0, await ReadAsync(db => db.Messages.CountAsync(m => m.AddressId == ours.Id)));
    }

    [Fact]
    public async Task Five_hundred_connections_from_one_address_are_capped_and_the_app_stays_responsive()
    {
        var ours = await AddAddressAsync("storm");
        using var http = new HttpClient { BaseAddress = new Uri(_inbound.App.ServerAddress) };
        var rounds = Soak.Rounds(1, 20);
        for (var round = 1; round <= rounds; round++)
        {
            var (greeted, refused, unanswered, health) = await StormAsync(http, 500);
            output.WriteLine($"Round {round}: 500 connections: {greeted} greeted (220), {refused} refused (421), {unanswered} unanswered; " +
                $"/health answered {health.Count(h => h.Status == HttpStatusCode.OK)} of {health.Count} probes during the storm, slowest {health.Max(h => h.Ms):0} ms");
            Assert.Equal(MaxSessionsPerAddress, greeted);
            Assert.Equal(500 - MaxSessionsPerAddress, refused);
            Assert.All(health, h => Assert.Equal(HttpStatusCode.OK, h.Status));
            await AllSlotsFreeAgainAsync();
        }

        await _inbound.SendAsync(MimeMessage.CreateFromMailMessage(new System.Net.Mail.MailMessage("a@example.org", "b@example.org", "After the storm", "Calm.")), ours.TechnicalAddress);
        Assert.Equal(1, await ReadAsync(db => db.Messages.CountAsync(m => m.AddressId == ours.Id)));
    }

    [Fact]
    public async Task Beyond_max_sessions_in_all_connections_get_421_too()
    {
        // Three client addresses, 40 connections each: 32 + 32 fill the 64 slots, whoever comes later is refused.
        IPAddress[] from = [IPAddress.Parse("127.0.0.2"), IPAddress.Parse("127.0.0.3"), IPAddress.Parse("127.0.0.4")];
        var clients = await Task.WhenAll(from.SelectMany(a => Enumerable.Repeat(a, 40)).Select(a => RawSmtpClient.ConnectAsync(_smtp, a)));
        try
        {
            var replies = await Task.WhenAll(clients.Select(c => c.ReadReplyAsync()));
            var greeted = replies.Count(r => r?.Code == 220);
            var busy = replies.Count(r => r?.Code == 421 && r.Text.StartsWith("4.3.2", StringComparison.Ordinal));
            var perAddress = replies.Count(r => r?.Code == 421 && r.Text.StartsWith("4.7.0", StringComparison.Ordinal));
            output.WriteLine($"120 connections from 3 addresses: {greeted} greeted, {busy} refused as too busy, {perAddress} refused per address");
            Assert.Equal(64, greeted);
            Assert.Equal(120 - 64, busy + perAddress);
            Assert.True(busy > 0);
        }
        finally
        {
            foreach (var client in clients)
                client.Dispose();
        }
    }

    /// <summary>Opens <paramref name="connections"/> at once, reads each one's first reply and probes /health meanwhile.</summary>
    private async Task<(int Greeted, int Refused, int Unanswered, List<(HttpStatusCode Status, double Ms)> Health)> StormAsync(HttpClient http, int connections)
    {
        var clients = new List<RawSmtpClient>();
        var health = new List<(HttpStatusCode Status, double Ms)>();
        async Task ProbeAsync()
        {
            var clock = Stopwatch.StartNew();
            var response = await http.GetAsync("/health");
            lock (health)
                health.Add((response.StatusCode, clock.Elapsed.TotalMilliseconds));
        }

        using var stop = new CancellationTokenSource();
        var probing = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await ProbeAsync();
                await Task.Delay(50);
            }
        });
        try
        {
            clients.AddRange(await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => RawSmtpClient.ConnectAsync(_smtp))));
            var first = await Task.WhenAll(clients.Select(c => c.ReadReplyAsync()));
            // And while the served sessions are still held open.
            for (var i = 0; i < 5; i++)
                await ProbeAsync();
            return (first.Count(r => r?.Code == 220), first.Count(r => r?.Code == 421), first.Count(r => r is null), health);
        }
        finally
        {
            stop.Cancel();
            await probing;
            foreach (var client in clients)
                client.Dispose();
        }
    }

    /// <summary>
    /// Once the storm's clients are gone, exactly the per-address cap can be served again: no slot leaked.
    /// The server notices closed sockets asynchronously, so this tries until it sees them all free (hang guard: 30 s).
    /// </summary>
    private async Task AllSlotsFreeAgainAsync()
    {
        var guard = Stopwatch.StartNew();
        while (true)
        {
            var clients = await Task.WhenAll(Enumerable.Range(0, MaxSessionsPerAddress + 1).Select(_ => RawSmtpClient.ConnectAsync(_smtp)));
            try
            {
                var codes = (await Task.WhenAll(clients.Select(c => c.ReadReplyAsync()))).Select(r => r?.Code).ToList();
                if (codes.Count(c => c == 220) == MaxSessionsPerAddress && codes.Count(c => c == 421) == 1)
                    return;
                Assert.True(guard.Elapsed < RawSmtpClient.Guard, $"Slots did not come back: {string.Join(",", codes)}");
            }
            finally
            {
                foreach (var client in clients)
                    client.Dispose();
            }
            await Task.Delay(100);
        }
    }

    private static string Message(string subject, string body = "Body.") =>
        $"From: <sender@example.org>\r\nTo: <support@acme.test>\r\nSubject: {subject}\r\nMessage-ID: <{Guid.NewGuid():N}@example.org>\r\n\r\n{body}\r\n";

    private static async Task<SmtpReply?> SendDataAsync(RawSmtpClient client, string recipient, string data)
    {
        Assert.Equal(250, (await client.CommandAsync("MAIL FROM:<sender@example.org>"))?.Code);
        Assert.Equal(250, (await client.CommandAsync($"RCPT TO:<{recipient}>"))?.Code);
        Assert.Equal(354, (await client.CommandAsync("DATA"))?.Code);
        await client.SendAsync(data + ".\r\n");
        return await client.ReadReplyAsync();
    }

    private Task<InboundAddresses.Created> AddAddressAsync(string name) =>
        InboundAddresses.AddAsync(_inbound.App.Services, $"{name}@acme.test");

    private Task<List<byte[]>> RawOfAsync(Guid addressId) =>
        ReadAsync(db => db.RawMessages.Where(r => db.Messages.Any(m => m.Id == r.MessageId && m.AddressId == addressId)).Select(r => r.Bytes).ToListAsync());

    private async Task<T> ReadAsync<T>(Func<AppDbContext, Task<T>> query)
    {
        await using var scope = _inbound.App.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<AppDbContext>());
    }
}
