using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using ConnectiveOne.Core.Inbound.Smtp;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Tests.TestSupport;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using Xunit.Abstractions;

namespace ConnectiveOne.Tests.Reliability;

/// <summary>
/// Inbound SMTP shares itself fairly (issue #12): a few neighbouring addresses cannot take every session slot, and
/// many large messages at once cannot take the memory. Figures go to docs/RELIABILITY.md, "SMTP fair share".
/// </summary>
[Trait("Category", "Reliability")]
[RunsLong(90)]
public sealed class SmtpFairShareTests(ITestOutputHelper output)
{
    [Theory]
    [Trait("Database", "Unused")]
    [InlineData("192.0.2.1", "192.0.2.254", true)]
    [InlineData("192.0.2.1", "192.0.3.1", false)]
    [InlineData("::ffff:192.0.2.7", "192.0.2.200", true)]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", true)]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:3::1", false)]
    [InlineData("127.0.0.2", "127.1.0.5", false)]
    public void Addresses_count_in_their_slash_24_or_slash_64(string a, string b, bool sameNetwork) =>
        Assert.Equal(sameNetwork, ClientNetwork.Of(IPAddress.Parse(a)).Equals(ClientNetwork.Of(IPAddress.Parse(b))));

    [Fact]
    public async Task A_sender_from_another_network_is_served_during_a_storm_of_500_connections_from_two_addresses()
    {
        // The defaults, spelled out: 64 sessions, 32 per address, 48 per /24.
        await using var inbound = new InboundApp(new Dictionary<string, string?>
        {
            ["ConnectiveOne:Smtp:MaxSessions"] = "64",
            ["ConnectiveOne:Smtp:MaxSessionsPerAddress"] = "32",
            ["ConnectiveOne:Smtp:MaxSessionsPerNetwork"] = "48",
        });
        var smtp = await inbound.SmtpEndpointAsync();
        var ours = await InboundAddresses.AddAsync(inbound.App.Services, "support@fair.test");

        // Two addresses of one /24, 250 connections each, all held open.
        IPAddress[] attackers = [IPAddress.Parse("127.0.0.2"), IPAddress.Parse("127.0.0.3")];
        var storm = await Task.WhenAll(Enumerable.Range(0, 500).Select(i => RawSmtpClient.ConnectAsync(smtp, attackers[i % 2])));
        try
        {
            var first = await Task.WhenAll(storm.Select(c => c.ReadReplyAsync()));
            var greeted = first.Count(r => r?.Code == 220);
            var refused = first.Count(r => r?.Code == 421);
            output.WriteLine($"500 connections from 127.0.0.2 and 127.0.0.3: {greeted} greeted, {refused} refused (421); " +
                string.Join(", ", first.Where(r => r?.Code == 421).GroupBy(r => r!.Text).Select(g => $"{g.Count()} × \"{g.Key}\"")));
            Assert.Equal(48, greeted);
            Assert.Equal(500 - 48, refused);

            // Meanwhile a sender from another /24, with every storm session still open.
            var clock = Stopwatch.StartNew();
            using (var client = new SmtpClient { LocalEndPoint = new IPEndPoint(IPAddress.Parse("127.1.0.5"), 0) })
            {
                await client.ConnectAsync(smtp.Address.ToString(), smtp.Port, SecureSocketOptions.None);
                var message = new MimeMessage();
                message.From.Add(MailboxAddress.Parse("customer@legit.test"));
                message.To.Add(MailboxAddress.Parse("support@fair.test"));
                message.Subject = "Served during the storm";
                message.Body = new TextPart("plain") { Text = "Hello." };
                await client.SendAsync(message, MailboxAddress.Parse("customer@legit.test"), [MailboxAddress.Parse(ours.TechnicalAddress)]);
                await client.DisconnectAsync(true);
            }
            output.WriteLine($"The sender from 127.1.0.5 was served in {clock.Elapsed.TotalMilliseconds:0} ms during the storm");
        }
        finally
        {
            foreach (var client in storm)
                client.Dispose();
        }
        await using var scope = inbound.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        Assert.Equal(1, await db.Messages.CountAsync(m => m.AddressId == ours.Id));
    }

    private const int MessageBytes = 24 * 1024 * 1024;

    /// <summary>
    /// The issue's bound. Measured: 1.8-1.9 GB before large messages went through spool files (each cost several in-memory
    /// copies of itself on its way into the database), 0.36-0.41 GB since on SQLite and PostgreSQL (docs/RELIABILITY.md,
    /// "SMTP fair share"): a margin of about 200 MB for a loaded machine and GC timing.
    /// </summary>
    private const long RssBoundBytes = 600L * 1024 * 1024;

    [Fact]
    public async Task Twenty_concurrent_24_MB_messages_are_all_stored_and_the_app_stays_under_600_MB()
    {
        await using var app = new AppProcess();
        await app.StartAsync();
        var address = await InboundAddresses.AddAsync(app.Database, "support@big.test");
        var started = PeakRss(app.ProcessId);

        // One shared body (the test holds it once); each message differs in its Message-ID and in the first line of
        // its attachment, so none is a duplicate of another and each file is stored on its own.
        var body = SharedBody(out var boundary);
        var heads = Enumerable.Range(0, 20).Select(i => Head(i, boundary, MessageBytes - body.Length)).ToList();
        var clock = Stopwatch.StartNew();
        var replies = await Task.WhenAll(heads.Select(head => Task.Run(() => SendRawAsync(app.SmtpPort, address.TechnicalAddress, head, body))));
        var elapsed = clock.Elapsed;
        // What is measured: the app's own process (a separate `dotnet ConnectiveOne.Console.dll`, not this test process),
        // its VmHWM from /proc: the highest resident set size it has had since it started (runtime, heap, SQLite or
        // Npgsql, mapped files), read after the last reply, so it covers every message's way into the database.
        var peak = PeakRss(app.ProcessId);

        output.WriteLine($"20 concurrent {MessageBytes / 1024 / 1024} MB messages: replies {string.Join(", ", replies.GroupBy(r => r).Select(g => $"{g.Count()} × {g.Key}"))} " +
            $"in {elapsed.TotalSeconds:0.0} s; peak RSS {peak / 1024 / 1024} MB (after start {started / 1024 / 1024} MB)");
        Assert.All(replies, r => Assert.StartsWith("250", r));

        // Every message is stored whole: sizes and the attachment's SHA-256 for all 20; the bytes themselves, read back
        // and hashed, for three of them (reading all 840 MB back took most of a minute on PostgreSQL here).
        clock.Restart();
        var decodedBody = Convert.FromBase64String(Encoding.ASCII.GetString(body, 0, body.Length - $"--{boundary}--\r\n".Length));
        var sent = heads.ToDictionary(Subject);
        await using (var db = app.Database.OpenContext())
        {
            var stored = await db.Messages.Where(m => m.AddressId == address.Id)
                .Select(m => new
                {
                    m.Id, m.Subject, m.RawSize, RawLength = m.Raw!.Bytes.Length,
                    Attachments = m.Attachments.Select(a => new { a.Sha256, a.Size }).ToList(),
                }).ToListAsync();
            Assert.Equal(sent.Keys.Order(), stored.Select(m => m.Subject).Order());
            foreach (var (message, i) in stored.OrderBy(m => m.Id).Select((m, i) => (m, i)))
            {
                var head = sent[message.Subject];
                Assert.Equal((long)head.Length + body.Length, message.RawSize);
                Assert.Equal(message.RawSize, message.RawLength);
                var attachment = Assert.Single(message.Attachments);
                Assert.Equal(AttachmentSha256(head, decodedBody), attachment.Sha256);
                Assert.Equal(attachment.Size, await db.AttachmentContents.Where(c => c.Sha256 == attachment.Sha256).Select(c => c.Bytes.Length).SingleAsync());
                if (i % 9 != 0)
                    continue;
                Assert.Equal(Sha256(head, body), Convert.ToHexStringLower(SHA256.HashData(
                    await db.RawMessages.Where(r => r.MessageId == message.Id).Select(r => r.Bytes).SingleAsync())));
                Assert.Equal(attachment.Sha256, Convert.ToHexStringLower(SHA256.HashData(
                    await db.AttachmentContents.Where(c => c.Sha256 == attachment.Sha256).Select(c => c.Bytes).SingleAsync())));
            }
        }
        output.WriteLine($"Checked the stored messages and attachments in {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.True(peak < RssBoundBytes, $"Peak RSS {peak / 1024 / 1024} MB is not under {RssBoundBytes / 1024 / 1024} MB");
    }

    private static string Subject(byte[] head)
    {
        var text = Encoding.ASCII.GetString(head, 0, 1024);
        var start = text.IndexOf("Subject: ", StringComparison.Ordinal) + "Subject: ".Length;
        return text[start..text.IndexOf('\r', start)];
    }

    private static string Sha256(byte[] head, byte[] body)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(head);
        hash.AppendData(body);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>
    /// The SHA-256 of the attachment as decoded: the base64 lines from the end of its headers, then the shared body's
    /// (decoded once; every line holds 57 whole bytes, so the two parts decode apart as they do together).
    /// </summary>
    private static string AttachmentSha256(byte[] head, byte[] decodedBody)
    {
        var start = head.AsSpan().LastIndexOf("\r\n\r\n"u8) + 4;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Convert.FromBase64String(Encoding.ASCII.GetString(head, start, head.Length - start)));
        hash.AppendData(decodedBody);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>VmHWM: the highest resident set size the process has had (bytes).</summary>
    private static long PeakRss(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0]) * 1024;
    }

    /// <summary>Headers, a text part and the start of the attachment, padded by one unique base64 line per message.</summary>
    private static byte[] Head(int index, string boundary, int bytes)
    {
        var head = new StringBuilder()
            .Append("From: Big Sender <big@customer.test>\r\nTo: support@big.test\r\n")
            .Append($"Subject: Large file {index}\r\nMessage-ID: <big-{index}-{Guid.NewGuid():N}@customer.test>\r\n")
            .Append($"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n")
            .Append($"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe file is attached.\r\n")
            .Append($"--{boundary}\r\nContent-Type: application/octet-stream; name=\"file-{index}.bin\"\r\n")
            .Append($"Content-Disposition: attachment; filename=\"file-{index}.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n");
        // The first attachment line: unique to this message; then 76-character lines of 'A' fill up to the size asked for.
        head.Append(Convert.ToBase64String(RandomNumberGenerator.GetBytes(57))).Append("\r\n");
        while (head.Length + 78 <= bytes)
            head.Append('A', 76).Append("\r\n");
        return Encoding.ASCII.GetBytes(head.ToString());
    }

    /// <summary>About 23.9 MB of random base64 lines and the closing boundary.</summary>
    private static byte[] SharedBody(out string boundary)
    {
        boundary = "c1-boundary-" + Guid.NewGuid().ToString("N");
        var end = Encoding.ASCII.GetBytes($"--{boundary}--\r\n");
        var lines = (MessageBytes - 64 * 1024) / 78;
        var body = new byte[lines * 78 + end.Length];
        var random = RandomNumberGenerator.GetBytes(57);
        for (var i = 0; i < lines; i++)
        {
            if (i % 4096 == 0)
                random = RandomNumberGenerator.GetBytes(57);
            random[0] = (byte)i;
            Encoding.ASCII.GetBytes(Convert.ToBase64String(random), body.AsSpan(i * 78));
            body[i * 78 + 76] = (byte)'\r';
            body[i * 78 + 77] = (byte)'\n';
        }
        end.CopyTo(body, lines * 78);
        return body;
    }

    /// <summary>One SMTP transaction over a bare socket (the data shared, not copied); returns the reply to the data.</summary>
    private static async Task<string> SendRawAsync(int port, string recipient, byte[] head, byte[] body)
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(5)); // hang guard, not a speed assertion
        using var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(IPAddress.Loopback, port, guard.Token);
        var stream = tcp.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII);

        async Task<string> ReplyAsync()
        {
            string line;
            do
                line = await reader.ReadLineAsync(guard.Token) ?? throw new IOException("The server closed the connection.");
            while (line.Length > 3 && line[3] == '-');
            return line;
        }

        async Task<string> CommandAsync(string command)
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"), guard.Token);
            return await ReplyAsync();
        }

        Assert.StartsWith("220", await ReplyAsync());
        Assert.StartsWith("250", await CommandAsync("EHLO big.customer.test"));
        Assert.StartsWith("250", await CommandAsync("MAIL FROM:<big@customer.test>"));
        Assert.StartsWith("250", await CommandAsync($"RCPT TO:<{recipient}>"));
        Assert.StartsWith("354", await CommandAsync("DATA"));
        await stream.WriteAsync(head, guard.Token);
        await stream.WriteAsync(body, guard.Token);
        await stream.WriteAsync(".\r\n"u8.ToArray(), guard.Token);
        var reply = await ReplyAsync();
        await CommandAsync("QUIT");
        return reply;
    }
}
