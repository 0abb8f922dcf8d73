using System.Net;
using System.Net.Http.Json;
using System.Text;
using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Outbound;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Threading;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace ConnectiveOne.Tests.Reliability;

/// <summary>
/// Mail loops: automatic mail of every kind we know arrives over real SMTP and is stored with the right flag
/// (read back through the API), and an auto-responder that answers everything we send cannot make us send
/// anything but the operator's own reply. Set <c>C1_SOAK=1</c> for 50 ping-pong rounds instead of 6.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class LoopTests(ITestOutputHelper output)
{
    private const string Customer = "carol@customer.example";

    /// <summary>One kind of automatic (or, for the controls, ordinary) mail and the flags it must get.</summary>
    public sealed record Case(string Name, string[] Expected, string EnvelopeFrom, Func<string, string, string> Build);

    private static string Plain(string extraHeaders, string from = Customer) => string.Join("\r\n",
        $"From: {from}", "To: support@acme.test", "Subject: {subject}", "Message-ID: <{id}>", "Date: Fri, 27 Nov 2026 10:00:00 +0000",
        "MIME-Version: 1.0") + (extraHeaders.Length > 0 ? "\r\n" + extraHeaders : "")
        + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nI am away until Monday.\r\n";

    private static string Report(string reportType, string reportPart, string from) => string.Join("\r\n",
        $"From: {from}", "To: support@acme.test", "Subject: {subject}", "Message-ID: <{id}>", "MIME-Version: 1.0",
        $"Content-Type: multipart/report; report-type={reportType}; boundary=\"r\"", "",
        "--r", "Content-Type: text/plain", "", "Report for a message you sent.", "",
        "--r", reportPart, "",
        "--r", "Content-Type: message/rfc822", "", "From: support@acme.test", "Subject: original", "", "original", "",
        "--r--", "");

    private static Func<string, string, string> Template(string template) =>
        (subject, id) => template.Replace("{subject}", subject).Replace("{id}", id);

    /// <summary>The matrix: RFC 3834, vendor headers, lists, bounces, ARF, our own mail coming back, and two controls.</summary>
    public static IReadOnlyList<Case> Matrix(string technicalAddress, long ownTicket, string ownToken) =>
    [
        new("Auto-Submitted: auto-replied (RFC 3834)", ["AutoReply"], Customer, Template(Plain("Auto-Submitted: auto-replied"))),
        new("Auto-Submitted: auto-generated", ["AutoReply"], Customer, Template(Plain("Auto-Submitted: auto-generated"))),
        new("Auto-Submitted: auto-notified", ["AutoReply"], Customer, Template(Plain("Auto-Submitted: auto-notified"))),
        new("Precedence: bulk", ["AutoReply"], Customer, Template(Plain("Precedence: bulk"))),
        new("Precedence: junk", ["AutoReply"], Customer, Template(Plain("Precedence: junk"))),
        new("Precedence: list", ["AutoReply"], Customer, Template(Plain("Precedence: list"))),
        new("X-Autoreply: yes", ["AutoReply"], Customer, Template(Plain("X-Autoreply: yes"))),
        new("X-Autorespond: yes", ["AutoReply"], Customer, Template(Plain("X-Autorespond: yes"))),
        new("X-Auto-Response-Suppress: All (Exchange OOF)", ["AutoReply"], Customer, Template(Plain("X-Auto-Response-Suppress: All"))),
        new("X-Loop naming our technical address", ["Loop"], Customer, Template(Plain($"X-Loop: {technicalAddress}"))),
        new("List-Unsubscribe (newsletter)", ["Bulk"], Customer, Template(Plain("List-Unsubscribe: <mailto:unsub@list.example>"))),
        new("List-Id (mailing list)", ["Bulk"], Customer, Template(Plain("List-Id: Customers <customers.list.example>"))),
        new("From MAILER-DAEMON, failure subject", ["Bounce"], "", (subject, id) =>
            Template(Plain("", "Mail Delivery System <MAILER-DAEMON@mx.customer.example>"))("Undelivered Mail Returned to Sender " + subject, id)),
        new("Return-Path: <> header", ["Bounce"], "bounces@customer.example", Template(Plain("Return-Path: <>"))),
        new("Null envelope sender MAIL FROM:<>", ["Bounce"], "", Template(Plain(""))),
        new("multipart/report delivery-status (DSN)", ["Bounce"], "", Template(Report("delivery-status",
            "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.customer.example\r\n\r\nFinal-Recipient: rfc822; nobody@customer.example\r\nAction: failed\r\nStatus: 5.1.1",
            "postmaster@customer.example"))),
        new("ARF abuse report (feedback-report)", ["Bounce"], "", Template(Report("feedback-report",
            "Content-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: SomeGenerator/1.0\r\nVersion: 1",
            "abuse@customer.example"))),
        new("Our own Message-ID format coming back", ["Loop"], Customer, (subject, _) =>
            Template(Plain(""))(subject, MessageIdFormat.Generate(ownTicket, ownToken, MailSeed.InboundDomain))),
        new("X-MS-Exchange-Inbox-Rules-Loop of another mailbox", ["AutoReply"], Customer,
            Template(Plain("X-MS-Exchange-Inbox-Rules-Loop: someone@customer.example"))),
        new("Gmail vacation responder (Auto-Submitted: auto-replied among Gmail's own headers)", ["AutoReply"], Customer,
            Template(Plain("Auto-Submitted: auto-replied\r\nX-Gm-Message-State: AOJu0Yw\r\nX-Google-Smtp-Source: AGHT+IF"))),
        new("Apple iCloud vacation (X-Apple-Action: VACATION)", ["AutoReply"], Customer, Template(Plain("X-Apple-Action: VACATION"))),
        new("Outlook 'Automatic reply:' subject only", ["AutoReply"], Customer, (subject, id) =>
            Template(Plain(""))("Automatic reply: " + subject, id)),
        // Controls: the matrix can fail both ways.
        new("Control: an ordinary customer mail", [], Customer, Template(Plain(""))),
        new("Control: Auto-Submitted: no", [], Customer, Template(Plain("Auto-Submitted: no"))),
        new("Control: Exchange rules-loop naming our own corporate address (the redirect itself)", [], Customer,
            Template(Plain("X-MS-Exchange-Inbox-Rules-Loop: support@acme.test"))),
    ];

    [Fact]
    public async Task Every_kind_of_automatic_mail_arriving_over_SMTP_is_stored_with_its_flag()
    {
        await using var inbound = new InboundApp(new Dictionary<string, string?> { ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain });
        var app = inbound.App;
        var address = await MailSeed.AddressAsync(app, "support@acme.test", DomainStatus.Failed, ForwardingStatus.Confirmed);
        var (own, _) = await MailSeed.TicketAsync(app, address, "A ticket of ours");
        var smtp = await inbound.SmtpEndpointAsync();
        var api = app.CreateApiClient();
        var cases = Matrix(address.TechnicalAddress, own.Id, own.ThreadToken);
        Assert.True(cases.Count(c => c.Expected.Length > 0) >= 15);

        var wrong = new List<string>();
        for (var i = 0; i < cases.Count; i++)
        {
            var c = cases[i];
            var subject = $"loopcase{i:D2}";
            var raw = Encoding.UTF8.GetBytes(c.Build(subject, $"case{i}.{Guid.NewGuid():N}@customer.example"));
            var answer = await RawSmtp.SendAsync(smtp, c.EnvelopeFrom, address.TechnicalAddress, raw);
            Assert.StartsWith("250", answer);

            var message = await StoredMessageAsync(api, subject);
            var flags = message.Flags.Order().ToArray();
            output.WriteLine($"{c.Name}: [{string.Join(", ", flags)}]");
            if (!flags.SequenceEqual(c.Expected.Order()))
                wrong.Add($"{c.Name}: expected [{string.Join(", ", c.Expected)}], stored with [{string.Join(", ", flags)}]");
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [Fact]
    public async Task An_auto_responder_answering_everything_we_send_gets_only_the_operators_reply()
    {
        var rounds = Environment.GetEnvironmentVariable("C1_SOAK") == "1" ? 50 : 6;
        await using var relay = await CaptureRelay.StartAsync();
        var settings = new Dictionary<string, string?>(relay.Settings)
        {
            ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain,
            ["ConnectiveOne:Outbound:PollInterval"] = "00:00:00.2",
        };
        await using var inbound = new InboundApp(settings);
        var app = inbound.App;
        var address = await MailSeed.AddressAsync(app, "support@acme.test", DomainStatus.Failed, ForwardingStatus.Confirmed);
        var smtp = await inbound.SmtpEndpointAsync();
        var api = app.CreateApiClient();

        // A customer writes; the operator answers once, then resolves the ticket.
        var first = $"Message-ID: <first.{Guid.NewGuid():N}@customer.example>";
        await RawSmtp.SendAsync(smtp, Customer, address.TechnicalAddress, Encoding.UTF8.GetBytes(
            $"From: Carol <{Customer}>\r\nTo: support@acme.test\r\nSubject: Printer on fire\r\n{first}\r\n\r\nHelp, please.\r\n"));
        var ticket = await TicketAsync(api, "Printer on fire");
        var reply = await api.PostAsJsonAsync($"/api/v1/tickets/{ticket.Id}/replies", new { text = "We are on it." });
        Assert.Equal(HttpStatusCode.Accepted, reply.StatusCode);
        (await api.PatchAsJsonAsync($"/api/v1/tickets/{ticket.Id}", new { status = "Resolved" })).EnsureSuccessStatusCode();
        await relay.WaitForAsync(1);

        // The responder answers every mail the relay got, every round: if we ever answered it back, the relay
        // would hold more mail each round and the responder would answer that too.
        var answered = 0;
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var mail in relay.Received)
            {
                var ooo = OutOfOffice(mail.Message, round);
                Assert.StartsWith("250", await RawSmtp.SendAsync(smtp, round % 2 == 0 ? "" : Customer, address.TechnicalAddress, ooo));
                answered++;
            }
            // 250 means committed; give any automatic answer the time to reach the outbox and the relay.
            await WaitForOutboxIdleAsync(app);
        }
        // Intake has filed every out-of-office mail into the ticket (an automatic answer would be queued with it), and
        // then the outbox has nothing left to send: what the relay holds now is all we ever sent.
        await MailSeed.WaitForAsync(app, async db => (int?)await db.Messages.CountAsync(m => m.TicketId == ticket.Id && m.Direction == MessageDirection.Inbound),
            n => n == rounds + 1);
        await WaitForOutboxIdleAsync(app);

        var automaticSent = relay.Received.Count - 1;
        output.WriteLine($"Ping-pong: {rounds} rounds, {answered} out-of-office mails in, automatic mail sent {automaticSent}, relay received {relay.Received.Count}");
        Assert.Equal(0, automaticSent);
        Assert.Equal(rounds, answered);

        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        Assert.Equal(1, await db.Outbox.CountAsync());
        Assert.Equal(1, await db.Tickets.CountAsync()); // no ticket flood: every auto-reply threads into the one ticket

        var details = await api.GetFromJsonAsync<TicketView>($"/api/v1/tickets/{ticket.Id}");
        Assert.Equal("Resolved", details!.Status); // automatic mail never reopens
        var autoReplies = details.Messages.Where(m => m.Direction == "Inbound").Skip(1).ToList();
        Assert.Equal(rounds, autoReplies.Count);
        Assert.All(autoReplies, m => Assert.Contains("AutoReply", m.Flags));
        Assert.Single(details.Messages, m => m.Direction == "Outbound");
    }

    /// <summary>An out-of-office answer to <paramref name="mail"/>, the way responders write them; the style changes by round.</summary>
    private static byte[] OutOfOffice(MimeKit.MimeMessage mail, int round)
    {
        var marker = (round % 3) switch
        {
            0 => "Auto-Submitted: auto-replied",
            1 => "Auto-Submitted: auto-replied\r\nX-Autoreply: yes\r\nPrecedence: auto_reply",
            _ => "Auto-Submitted: auto-replied\r\nX-Auto-Response-Suppress: All",
        };
        var to = mail.From.Mailboxes.First().Address;
        return Encoding.UTF8.GetBytes(string.Join("\r\n",
            $"From: Carol <{Customer}>", $"To: {to}", $"Subject: Out of office: {mail.Subject}",
            $"Message-ID: <ooo{round}.{Guid.NewGuid():N}@customer.example>", $"In-Reply-To: <{mail.MessageId}>",
            $"References: <{mail.MessageId}>", marker, "", $"I am away (round {round}).", ""));
    }

    private static async Task WaitForOutboxIdleAsync(TestApp app)
    {
        await MailSeed.WaitForAsync(app, async db => (int?)await db.Outbox.CountAsync(m => m.State == DeliveryState.Queued), n => n == 0);
    }

    private static async Task<TicketView> TicketAsync(HttpClient api, string subject)
    {
        for (var attempt = 0; ; attempt++)
        {
            var list = await api.GetFromJsonAsync<TicketListView>($"/api/v1/tickets?q={Uri.EscapeDataString(subject)}&pageSize=10");
            if (list!.Items.Count == 1)
                return (await api.GetFromJsonAsync<TicketView>($"/api/v1/tickets/{list.Items[0].Id}"))!;
            Assert.True(attempt < 50, $"{list.Items.Count} tickets match '{subject}'");
            await Task.Delay(100);
        }
    }

    private static async Task<MessageView> StoredMessageAsync(HttpClient api, string subject) =>
        Assert.Single((await TicketAsync(api, subject)).Messages);

    public sealed record TicketListView(IReadOnlyList<TicketSummaryView> Items, int Total);

    public sealed record TicketSummaryView(long Id, string Subject);

    public sealed record TicketView(long Id, string Status, IReadOnlyList<MessageView> Messages);

    public sealed record MessageView(long Id, string Direction, string Subject, string[] Flags);
}
