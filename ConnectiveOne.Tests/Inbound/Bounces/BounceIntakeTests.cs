using System.Text;
using System.Text.RegularExpressions;
using System.Net.Http.Json;
using System.Text.Json;
using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Inbound;
using ConnectiveOne.Core.Inbound.Bounces;
using ConnectiveOne.Core.Inbound.Intake;
using ConnectiveOne.Core.Threading;
using ConnectiveOne.Core.Outbound;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.Reliability;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace ConnectiveOne.Tests.Inbound.Bounces;

/// <summary>
/// Every bounce of the corpus, rewritten the way a real bounce of one of our replies would read (the returned message's
/// Message-ID is that reply's), sent through the real SMTP listener to the address our replies go out from: the right
/// reply is marked, no ticket is opened. The same bounces unmodified name no message of ours and are stored as before.
/// </summary>
[RunsLong(120)]
public sealed partial class BounceIntakeTests(ITestOutputHelper output)
{
    private static readonly Encoding Bytes = Encoding.Latin1; // one char per byte: the rewrite leaves every other byte as it is

    private static Dictionary<string, string?> Settings(CaptureRelay relay) => new(relay.Settings)
    {
        ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain,
        ["ConnectiveOne:Outbound:PollInterval"] = "00:00:01",
        ["ConnectiveOne:Smtp:MaxMessageBytes"] = "5000000",
    };

    [Fact]
    public async Task Every_corpus_bounce_naming_one_of_our_replies_marks_that_reply_and_opens_no_ticket()
    {
        await using var relay = await CaptureRelay.StartAsync();
        await using var inbound = new InboundApp(Settings(relay));
        var app = inbound.App;
        var address = await MailSeed.AddressAsync(app, "support@acme.test", DomainStatus.Failed, ForwardingStatus.Confirmed);
        var (ticket, _) = await MailSeed.TicketAsync(app, address);
        var smtp = await inbound.SmtpEndpointAsync();

        var files = BounceCorpus.Files();
        Assert.True(files.Count > 240, $"only {files.Count} corpus bounces found");
        // 200 of 245 measured: the others do not quote the returned message's Message-ID.
        var cases = files.Select(f => (File: f, Raw: Crlf(File.ReadAllBytes(Corpus.PathOf(f))))).Select(c => (c.File, c.Raw, Named: NamedIds(c.Raw))).ToList();
        var naming = cases.Where(c => c.Named.Count > 0).ToList();
        output.WriteLine($"{naming.Count} of {cases.Count} corpus bounces name the returned message's Message-ID");
        Assert.True(naming.Count >= 190, $"only {naming.Count} bounces name a Message-ID");

        // One sent reply per bounce, delivered through the relay like any reply.
        var replies = new List<(long Id, string MessageId)>();
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var service = scope.ServiceProvider.GetRequiredService<ReplyService>();
            foreach (var (file, _, _) in naming)
            {
                var queued = await service.QueueReplyAsync(ticket.Id, $"Reply that {file} will bounce", [], null);
                replies.Add((queued.MessageId!.Value, ""));
            }
        }
        await relay.WaitForAsync(naming.Count, timeoutSeconds: 120);
        var sent = await MailSeed.WaitForAsync<List<TicketMessage>>(app, async db => await db.Messages.AsNoTracking().Where(m => m.Direction == MessageDirection.Outbound).ToListAsync(),
            all => all.Count == naming.Count && all.All(m => m.Delivery == DeliveryState.Sent));
        replies = replies.Select(r => (r.Id, sent.Single(m => m.Id == r.Id).MessageIdHeader!)).ToList();
        var sender = relay.Received[0].EnvelopeFrom; // where a receiving server returns our reply
        var ticketsBefore = await CountAsync(app, db => db.Tickets.CountAsync());
        var messagesBefore = await CountAsync(app, db => db.Messages.CountAsync());

        var opened = new List<string>();
        var expected = new List<(string File, long Reply, BounceReport Report, string? FinalRecipient, bool Failed)>();
        for (var i = 0; i < naming.Count; i++)
        {
            var (file, raw, named) = naming[i];
            var rewritten = Rewrite(raw, named, replies[i].MessageId, $"bounce{i}.{Guid.NewGuid():N}@mx.example");
            Assert.StartsWith("250", await RawSmtp.SendAsync(smtp, "", sender, rewritten));
            if (await CountAsync(app, db => db.Tickets.CountAsync()) != ticketsBefore + opened.Count)
                opened.Add(file);
            var report = BounceParser.Parse(RawMessageParser.Parse(rewritten));
            Assert.True(report is not null, $"{file}: no report read");
            expected.Add((file, replies[i].Id, report!, FinalRecipient(raw), FailedAction(raw)));
        }

        Assert.True(opened.Count == 0, "opened a ticket: " + string.Join(", ", opened));
        Assert.Equal(ticketsBefore, await CountAsync(app, db => db.Tickets.CountAsync()));
        Assert.Equal(messagesBefore, await CountAsync(app, db => db.Messages.CountAsync()));
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var stored = await db.Messages.AsNoTracking().Where(m => m.Direction == MessageDirection.Outbound).ToDictionaryAsync(m => m.Id);
            var reports = await db.DeliveryReports.AsNoTracking().ToListAsync();
            var wrong = new List<string>();
            foreach (var (file, reply, report, finalRecipient, failed) in expected)
            {
                var message = stored[reply];
                var problem = (report.Action, message.Delivery) switch
                {
                    (BounceAction.Failed, not DeliveryState.Bounced) => $"not Bounced but {message.Delivery}",
                    (BounceAction.Failed, _) when message.DeliveryDetail != report.Diagnostic => $"detail '{message.DeliveryDetail}'",
                    (BounceAction.Failed, _) when message.BouncedRecipient != report.RecipientText => $"recipient '{message.BouncedRecipient}'",
                    (BounceAction.Failed, _) when finalRecipient is not null && message.BouncedRecipient?.Contains(finalRecipient) != true
                        => $"recipient '{message.BouncedRecipient}' is not the DSN's Final-Recipient {finalRecipient}",
                    (BounceAction.Delayed, not DeliveryState.Sent) => $"a delay made it {message.Delivery}",
                    (BounceAction.Delayed, _) when message.DeliveryDetail?.StartsWith("Delayed") != true => $"delay not noted: '{message.DeliveryDetail}'",
                    (BounceAction.Delivered, not DeliveryState.Sent) => $"a success report made it {message.Delivery}",
                    _ => null,
                };
                // A DSN that says "Action: failed" is a bounce whatever its text says.
                if (problem is null && failed && message.Delivery != DeliveryState.Bounced)
                    problem = "its DSN says Action: failed, but the reply is not Bounced";
                if (problem is null && reports.Count(r => r.MessageId == reply) != 1)
                    problem = $"{reports.Count(r => r.MessageId == reply)} delivery reports kept";
                if (problem is not null)
                    wrong.Add($"{file}: {problem}");
            }
            var bounced = stored.Values.Count(m => m.Delivery == DeliveryState.Bounced);
            output.WriteLine($"{bounced} replies Bounced, {expected.Count - bounced} delayed or delivered reports; {reports.Count} reports kept");
            Assert.True(wrong.Count == 0, string.Join("\n", wrong));
            Assert.True(bounced >= expected.Count * 9 / 10, $"only {bounced} of {expected.Count} replies Bounced");
            // The evidence is kept byte for byte.
            Assert.All(reports, r => Assert.True(r.Raw.Length > 0));

            // The API shows it on the reply (API.md "Conversation": delivery, deliveryDetail, bouncedRecipient).
            var first = expected.Last(e => e.Report.Action == BounceAction.Failed);
            var api = app.CreateApiClient();
            var page = await api.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{ticket.Id}?limit={TicketQueries.MaxMessageLimit}");
            var shown = page.GetProperty("messages").EnumerateArray().Single(m => m.GetProperty("id").GetInt64() == first.Reply);
            Assert.Equal(("Bounced", first.Report.Diagnostic, first.Report.RecipientText),
                (shown.GetProperty("delivery").GetString(), shown.GetProperty("deliveryDetail").GetString(), shown.GetProperty("bouncedRecipient").GetString()));
        }

        // The same bounces as they are name no message of ours: stored and flagged as before, no reply touched.
        var untouched = await CountAsync(app, db => db.Messages.CountAsync(m => m.Delivery == DeliveryState.Bounced));
        var before = await CountAsync(app, db => db.Messages.CountAsync());
        foreach (var (_, raw, _) in cases)
            Assert.StartsWith("250", await RawSmtp.SendAsync(smtp, "", sender, raw));
        Assert.Equal(untouched, await CountAsync(app, db => db.Messages.CountAsync(m => m.Delivery == DeliveryState.Bounced)));
        Assert.Equal(expected.Count, await CountAsync(app, db => db.DeliveryReports.CountAsync()));
        // Each distinct one (the corpus repeats some under other line endings) is a stored message, as before.
        var distinct = cases.Select(c => MessagePreparer.DedupKeyOf(
            RawMessageParser.Parse(c.Raw).MessageId is { Length: > 0 } id ? MessageIds.Normalize(id) : null, c.Raw)).Distinct().Count();
        Assert.Equal(distinct, await CountAsync(app, db => db.Messages.CountAsync()) - before);
        Assert.True(await CountAsync(app, db => db.Tickets.CountAsync()) > ticketsBefore);
    }

    [Fact]
    public async Task A_relays_later_bounce_of_an_accepted_reply_marks_it_and_tells_its_author()
    {
        await using var relay = await CaptureRelay.StartAsync();
        await using var inbound = new InboundApp(Settings(relay));
        var app = inbound.App;
        var address = await MailSeed.AddressAsync(app, "support@acme.test", DomainStatus.Failed, ForwardingStatus.Confirmed);
        var (ticket, _) = await MailSeed.TicketAsync(app, address);
        var events = new List<Core.Events.ChangeEvent>();
        using var subscription = app.Services.GetRequiredService<Core.Events.ChangeNotifier>().Subscribe(e =>
        {
            lock (events)
                events.Add(e);
        });
        long reply;
        await using (var scope = app.Services.CreateAsyncScope())
            reply = (await scope.ServiceProvider.GetRequiredService<ReplyService>().QueueReplyAsync(ticket.Id, "Fixed.", [], "author-1")).MessageId!.Value;
        var accepted = (await relay.WaitForAsync()).Single(); // the relay said 250
        await MailSeed.WaitForAsync(app, db => db.Messages.AsNoTracking().FirstOrDefaultAsync(m => m.Id == reply), m => m.Delivery == DeliveryState.Sent);

        // Later the relay's next hop refuses it: a Postfix DSN to our envelope sender, with the headers it accepted.
        var headers = Bytes.GetString(accepted.Bytes);
        headers = headers[..BlankLine().Match(headers).Index];
        var dsn = $"From: MAILER-DAEMON@relay.example (Mail Delivery System)\r\nTo: {accepted.EnvelopeFrom}\r\nSubject: Undelivered Mail Returned to Sender\r\n" +
                  "Message-ID: <relay-dsn-1@relay.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n" +
                  "--b1\r\nContent-Type: text/plain\r\n\r\n<carol@customer.example>: host mx.customer.example said: 550 5.1.1 <carol@customer.example>: Recipient address rejected\r\n\r\n" +
                  "--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; relay.example\r\n\r\nFinal-Recipient: rfc822; carol@customer.example\r\n" +
                  "Action: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 <carol@customer.example>: Recipient address rejected\r\n\r\n" +
                  $"--b1\r\nContent-Type: text/rfc822-headers\r\n\r\n{headers}\r\n\r\n--b1--\r\n";
        Assert.StartsWith("250", await RawSmtp.SendAsync(await inbound.SmtpEndpointAsync(), "", accepted.EnvelopeFrom, Bytes.GetBytes(dsn)));

        await using (var scope = app.Services.CreateAsyncScope())
        {
            var message = await scope.ServiceProvider.GetRequiredService<AppDbContext>().Messages.AsNoTracking().SingleAsync(m => m.Id == reply);
            Assert.Equal((DeliveryState.Bounced, "The mailbox does not exist (5.1.1): 550 5.1.1 <carol@customer.example>: Recipient address rejected", "carol@customer.example"),
                (message.Delivery, message.DeliveryDetail, message.BouncedRecipient));
        }
        // deliveryStatusChanged for the reply: open pages reload it; the bell notifies its author only.
        await MailSeed.WaitForAsync(app, _ => Task.FromResult<object?>(events), _ =>
        {
            lock (events)
                return events.Any(e => e.Kind == Core.Events.ChangeKind.DeliveryStatusChanged && e.Id == reply.ToString() && e.ForUserId == "author-1"
                    && e.Summary!.Contains("bounced", StringComparison.Ordinal));
        });
    }

    /// <summary>SMTP carries lines ending CRLF: the corpus' LF-only and CR-only files are sent as a server would relay them.</summary>
    private static byte[] Crlf(byte[] raw) => Bytes.GetBytes(LineEnd().Replace(Bytes.GetString(raw), "\r\n"));

    private static async Task<int> CountAsync(TestApp app, Func<AppDbContext, Task<int>> count)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await count(scope.ServiceProvider.GetRequiredService<AppDbContext>());
    }

    /// <summary>
    /// The Message-IDs a bounce names for the message it returns, found the way a person would: <c>Message-ID:</c> lines
    /// below its own header block, and its In-Reply-To/References.
    /// </summary>
    private static List<string> NamedIds(byte[] raw)
    {
        var text = Bytes.GetString(raw);
        var (headers, body) = Split(text);
        var own = MessageIdHeader().Match(headers) is { Success: true } m ? m.Groups["id"].Value : null;
        var ids = MessageIdHeader().Matches(body).Select(x => x.Groups["id"].Value)
            .Concat(ReplyHeader().Matches(headers).SelectMany(x => AngleId().Matches(x.Value).Select(a => a.Groups["id"].Value)))
            .Where(id => id != own && id.Contains('@'))
            .Distinct().ToList();
        return ids;
    }

    /// <summary>Every named id becomes our reply's; the bounce's own Message-ID becomes a fresh one (the corpus repeats some).</summary>
    private static byte[] Rewrite(byte[] raw, List<string> named, string ours, string freshOwnId)
    {
        var (headers, body) = Split(Bytes.GetString(raw));
        if (MessageIdHeader().Match(headers) is { Success: true } own)
            headers = headers[..own.Groups["id"].Index] + freshOwnId + headers[(own.Groups["id"].Index + own.Groups["id"].Length)..];
        foreach (var id in named)
        {
            headers = headers.Replace(id, ours, StringComparison.Ordinal);
            body = body.Replace(id, ours, StringComparison.Ordinal);
        }
        return Bytes.GetBytes(headers + body);
    }

    private static (string Headers, string Body) Split(string text)
    {
        var end = BlankLine().Match(text);
        return end.Success ? (text[..end.Index], text[end.Index..]) : (text, "");
    }

    /// <summary>
    /// The first Final-Recipient of the bounce's own DSN; null when there is none, or when the DSN sits inside a returned
    /// message (a bounce of a bounce names the outer failure, not the inner one).
    /// </summary>
    private static string? FinalRecipient(byte[] raw)
    {
        var text = Bytes.GetString(raw);
        var dsn = text.IndexOf("message/delivery-status", StringComparison.OrdinalIgnoreCase);
        var returned = text.IndexOf("message/rfc822", StringComparison.OrdinalIgnoreCase);
        if (dsn < 0 || returned >= 0 && returned < dsn)
            return null;
        return FinalRecipientField().Match(text) is { Success: true } m ? m.Groups["address"].Value.ToLowerInvariant() : null;
    }

    private static bool FailedAction(byte[] raw) => FailedField().IsMatch(Bytes.GetString(raw));

    [GeneratedRegex(@"(?<=^|[\r\n])[ \t>]*Message-ID:[ \t]*<?(?<id>[^\s<>]+@[^\s<>]+?)>?[ \t]*(?=[\r\n]|$)", RegexOptions.IgnoreCase)]
    private static partial Regex MessageIdHeader();

    [GeneratedRegex(@"(?<=^|[\r\n])(In-Reply-To|References):[^\r\n]*(\r?\n[ \t][^\r\n]*)*", RegexOptions.IgnoreCase)]
    private static partial Regex ReplyHeader();

    [GeneratedRegex(@"<(?<id>[^\s<>]+@[^\s<>]+)>")]
    private static partial Regex AngleId();

    [GeneratedRegex(@"\r\n|\r|\n")]
    private static partial Regex LineEnd();

    [GeneratedRegex(@"(\r\n\r\n|\n\n|\r\r)")]
    private static partial Regex BlankLine();

    [GeneratedRegex(@"(?<=^|[\r\n])Final-Recipient:[ \t]*rfc822;[ \t]*<?(?<address>[^\s<>@:]+@[^\s<>]+?)>?[ \t]*(?=[\r\n]|$)", RegexOptions.IgnoreCase)]
    private static partial Regex FinalRecipientField();

    [GeneratedRegex(@"(?<=^|[\r\n])Action:[ \t]*failed", RegexOptions.IgnoreCase)]
    private static partial Regex FailedField();
}
