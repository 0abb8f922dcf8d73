using System.Net;
using System.Net.Http.Json;
using System.Text;
using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Outbound;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using Xunit.Abstractions;

namespace ConnectiveOne.Tests.Reliability;

/// <summary>
/// One mail cannot stop the outbox (issue #12): unsendable mail of every kind we could build sits in the outbox ahead of
/// good mail; the real worker sends every good one to a real capture relay and ends every bad one Failed with the
/// reason. Replies to a ticket without a usable customer address are refused with words (400), never a 500.
/// Figures go to docs/RELIABILITY.md, "One mail cannot stop the outbox".
/// </summary>
[Trait("Category", "Reliability")]
public sealed class OutboxPoisonTests(ITestOutputHelper output) : IAsyncLifetime
{
    private CaptureRelay _relay = null!;
    private TestApp _app = null!;

    public async Task InitializeAsync()
    {
        _relay = await CaptureRelay.StartAsync();
        _app = new TestApp(settings: new Dictionary<string, string?>(_relay.Settings)
        {
            ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain,
            ["ConnectiveOne:Outbound:PollInterval"] = "00:00:01",
            ["ConnectiveOne:Outbound:Timeout"] = "00:00:10",
        });
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _relay.DisposeAsync();
    }

    /// <summary>An unsendable outbox row and the words its Failed detail must contain.</summary>
    private sealed record Poison(string Name, OutboundKind Kind, string To, string Expected, string? From = null, byte[]? Mime = null);

    [Fact]
    public async Task Unsendable_mail_of_every_kind_ahead_of_good_mail_ends_Failed_in_words_and_every_good_mail_is_sent()
    {
        var address = await MailSeed.AddressAsync(_app, "support@acme.test", DomainStatus.Pending);
        var (ticket, _) = await MailSeed.TicketAsync(_app, address);
        Poison[] poisons =
        [
            new("empty recipient (MAIL FROM:<> and no From, issue #12)", OutboundKind.Reply, "", "there is no address"),
            new("blank recipient", OutboundKind.Reply, "   ", "there is no address"),
            new("unparsable recipient", OutboundKind.Reply, "not an address", "\"not an address\" is not an email address"),
            new("recipient cut in the middle (a From over 320 characters)", OutboundKind.Reply,
                "\"" + new string('q', 200) + "@customer.example", "is not an email address"),
            new("over-long recipient", OutboundKind.Reply, new string('l', 300) + "@customer.example", "longer than"),
            new("recipient without a domain", OutboundKind.Reply, "carol@", "\"carol@\" is not an email address"),
            new("recipient with a dotless domain", OutboundKind.Reply, "carol@localhost", "has no dot"),
            new("recipient list naming no mailbox", OutboundKind.Reply, "undisclosed-recipients:;", "no recipient"),
            new("header injection in the recipient", OutboundKind.Reply, "carol@customer.example\r\nRCPT TO:<x@evil.example>",
                "a line break"),
            new("recipient is our corporate address", OutboundKind.Reply, "support@acme.test", "one of this helpdesk's own addresses"),
            new("recipient is our technical address", OutboundKind.Reply, address.TechnicalAddress, "one of this helpdesk's own addresses"),
            new("test mail to an empty recipient", OutboundKind.Test, "", "there is no address"),
            new("forwarding test to an unparsable address", OutboundKind.ForwardingTest, "support at acme", "\"support at acme\" is not an email address"),
            new("unparsable sender", OutboundKind.Reply, "dave@customer.example", "the sender address", From: "not a sender"),
            new("stored bytes that are no message", OutboundKind.Reply, "erin@customer.example", "the stored message cannot be read",
                Mime: "no headers, no body"u8.ToArray()),
            new("empty stored bytes", OutboundKind.Reply, "frank@customer.example", "the stored message cannot be read", Mime: []),
        ];
        string[] good = ["good1@customer.example", "good2@customer.example", "good3@customer.example", "good4@customer.example"];

        // All in one transaction, the poison due first: the worker claims it before the good mail, as in the issue.
        var now = DateTimeOffset.UtcNow;
        long poisonedMessageId;
        await using (var db = _app.Database.OpenContext())
        {
            var replyMessage = new TicketMessage
            {
                TicketId = ticket.Id, AddressId = address.Id, Direction = MessageDirection.Outbound, MessageIdHeader = "legacy@inbound.test",
                DedupKey = "legacy@inbound.test", FromAddress = address.TechnicalAddress, To = "", Subject = "Re: Printer on fire",
                ReceivedAt = now, Text = "Queued by an earlier version for a ticket without a customer address.",
                Delivery = DeliveryState.Queued,
            };
            db.Messages.Add(replyMessage);
            await db.SaveChangesAsync();
            poisonedMessageId = replyMessage.Id;
            for (var i = 0; i < poisons.Length; i++)
                db.Outbox.Add(Row(address, poisons[i].Kind, poisons[i].To, now.AddMinutes(-60 + i), poisons[i].From, poisons[i].Mime,
                    i == 0 ? poisonedMessageId : null));
            for (var i = 0; i < good.Length; i++)
                db.Outbox.Add(Row(address, i % 2 == 0 ? OutboundKind.Reply : OutboundKind.Test, good[i], now.AddMinutes(-10 + i)));
            // A forwarding test goes to our own corporate address on purpose, and is sent.
            db.Outbox.Add(Row(address, OutboundKind.ForwardingTest, "support@acme.test", now.AddMinutes(-5)));
            await db.SaveChangesAsync();
        }
        _app.Services.GetRequiredService<OutboxSignal>().Wake();

        var received = await _relay.WaitForAsync(good.Length + 1);
        var rows = await MailSeed.WaitForAsync(_app, async db => (List<OutboundMail>?)await db.Outbox.AsNoTracking().ToListAsync(),
            all => all.All(m => m.State != DeliveryState.Queued));

        foreach (var row in rows.OrderBy(r => r.NextAttemptAt ?? r.CreatedAt))
            output.WriteLine($"{row.Kind,-14} {Show(row.ToAddress),-40} {row.State,-6} {row.Detail}");
        Assert.Equal([.. good, "support@acme.test"], received.Select(m => m.EnvelopeTo.Single()).Order(StringComparer.Ordinal));
        foreach (var poison in poisons)
        {
            var row = Assert.Single(rows, r => r.ToAddress == poison.To && r.Kind == poison.Kind && (poison.From is null || r.FromAddress == poison.From)
                                               && (poison.Mime is null || r.Mime.Length == poison.Mime.Length));
            Assert.True(row.State == DeliveryState.Failed, $"{poison.Name}: {row.State} {row.Detail}");
            Assert.StartsWith("Not sent: ", row.Detail);
            Assert.Contains(poison.Expected, row.Detail);
        }
        Assert.Equal(good.Length + 1, rows.Count(r => r.State == DeliveryState.Sent));
        Assert.Equal(poisons.Length, rows.Count(r => r.State == DeliveryState.Failed));
        await using (var check = _app.Database.OpenContext())
        {
            var message = await check.Messages.AsNoTracking().SingleAsync(m => m.Id == poisonedMessageId);
            Assert.Equal(DeliveryState.Failed, message.Delivery);
            Assert.Contains("there is no address", message.DeliveryDetail);
        }

        // The outbox still works: a reply queued now goes out.
        await using var scope = _app.Services.CreateAsyncScope();
        var after = await scope.ServiceProvider.GetRequiredService<ReplyService>().QueueReplyAsync(ticket.Id, "Still here.", [], null);
        Assert.Null(after.Error);
        Assert.Contains("carol@customer.example", (await _relay.WaitForAsync(good.Length + 2)).Select(m => m.EnvelopeTo.Single()));
        output.WriteLine($"Poison matrix: good sent {good.Length + 1} of {good.Length + 1}, unsendable Failed in words {poisons.Length} of {poisons.Length}, stuck Queued 0");
    }

    [Fact]
    public async Task A_reply_to_a_ticket_without_a_usable_customer_address_is_a_400_in_words_and_queues_nothing()
    {
        var address = await MailSeed.AddressAsync(_app, "support@acme.test", DomainStatus.Verified);
        var api = _app.CreateApiClient();
        // Customers as earlier versions stored them: empty (MAIL FROM:<> and no From), a From over 320 characters cut in the
        // middle, and one of our own addresses.
        (string Customer, string Words)[] customers =
        [
            ("", "This ticket has no reply address: the customer's mail had no usable From, Reply-To, Sender or envelope sender."),
            ("\"" + new string('q', 319), "This ticket has no reply address"),
            (new string('l', 300) + "@customer.exa", "longer than"),
            ("support@acme.test", "one of this helpdesk's own addresses"),
        ];

        foreach (var (customer, words) in customers)
        {
            var (ticket, _) = await MailSeed.TicketAsync(_app, address);
            await using (var db = _app.Database.OpenContext())
                await db.Tickets.Where(t => t.Id == ticket.Id).ExecuteUpdateAsync(set => set.SetProperty(t => t.CustomerEmail, customer));

            var json = await api.PostAsJsonAsync($"/api/v1/tickets/{ticket.Id}/replies", new { text = "Hello?" });
            using var form = new MultipartFormDataContent { { new StringContent("With a file."), "text" },
                { new ByteArrayContent("%PDF"u8.ToArray()), "files", "terms.pdf" } };
            var multipart = await api.PostAsync($"/api/v1/tickets/{ticket.Id}/replies", form);

            foreach (var response in new[] { json, multipart })
            {
                Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                Assert.Contains(words, (await response.Content.ReadFromJsonAsync<Problem>())!.Title);
            }
        }
        await using var check = _app.Database.OpenContext();
        Assert.Equal(0, await check.Outbox.CountAsync());
        Assert.Equal(0, await check.Messages.CountAsync(m => m.Direction == MessageDirection.Outbound));
    }

    [Fact]
    public async Task Intake_takes_the_customer_from_Reply_To_Sender_or_the_envelope_when_From_is_unusable_and_else_refuses_replies_in_words()
    {
        var address = await MailSeed.AddressAsync(_app, "support@acme.test", DomainStatus.Pending);
        var recipient = new Core.Inbound.Intake.InboundAddress(address.Id, address.Email, address.TechnicalAddress);
        var longFrom = new string('l', 330) + "@customer.example";
        // (headers, envelope sender, expected customer: "" = no reply address)
        (string Headers, string? Envelope, string Customer)[] cases =
        [
            ("From: Carol <carol@customer.example>\r\nReply-To: other@customer.example", "bounce@customer.example", "carol@customer.example"),
            ("", "", ""),
            ("From: <>", "", ""),
            ($"From: <{longFrom}>\r\nReply-To: Dana <dana@customer.example>", "", "dana@customer.example"),
            ("From: not an address\r\nSender: Eve <eve@customer.example>", "", "eve@customer.example"),
            ("From: frank@localhost", "frank@customer.example", "frank@customer.example"),
            ($"From: <{address.TechnicalAddress}>\r\nReply-To: gina@customer.example", "", "gina@customer.example"),
            ("From: support@acme.test", "", ""),
            ($"From: <{longFrom}>", "", ""),
        ];

        var intake = _app.Services.GetRequiredService<Core.Inbound.Intake.InboundIntake>();
        var api = _app.CreateApiClient();
        for (var i = 0; i < cases.Length; i++)
        {
            var (headers, envelope, expected) = cases[i];
            var raw = Encoding.ASCII.GetBytes($"{headers}{(headers.Length > 0 ? "\r\n" : "")}Subject: Case {i}\r\nMessage-ID: <case-{i}@customer.example>\r\n\r\nHello.\r\n");
            var result = await intake.AcceptAsync(raw, [recipient], envelope, "test", CancellationToken.None);
            var ticketId = result.Deliveries.Single().TicketId!.Value;

            var ticket = await api.GetFromJsonAsync<TicketJson>($"/api/v1/tickets/{ticketId}");
            Assert.True(expected == ticket!.Customer, $"case {i} ({headers}): customer \"{ticket.Customer}\", expected \"{expected}\"");
            var reply = await api.PostAsJsonAsync($"/api/v1/tickets/{ticketId}/replies", new { text = "Hello." });
            if (expected.Length > 0)
            {
                Assert.Equal(HttpStatusCode.Accepted, reply.StatusCode);
            }
            else
            {
                Assert.Equal(HttpStatusCode.BadRequest, reply.StatusCode);
                Assert.StartsWith("This ticket has no reply address", (await reply.Content.ReadFromJsonAsync<Problem>())!.Title);
            }
        }
        // Each reply goes where the answered mail asks (its Reply-To, honoured as mail clients do), else to the customer.
        var expectedSent = cases.Where(c => c.Customer.Length > 0)
            .Select(c => c.Headers.Contains("Reply-To: other@", StringComparison.Ordinal) ? "other@customer.example" : c.Customer)
            .Order(StringComparer.Ordinal).ToList();
        var received = await _relay.WaitForAsync(expectedSent.Count);
        Assert.Equal(expectedSent, received.Select(m => m.EnvelopeTo.Single()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_message_the_mail_client_refuses_before_sending_is_an_outcome_in_words_not_an_exception()
    {
        var relay = _app.Services.GetRequiredService<RelayClient>();
        var message = new MimeMessage { Subject = "Nobody to send to" };
        message.From.Add(new MailboxAddress(null, "support@acme.test"));
        message.Body = new TextPart("plain") { Text = "Hello." };

        var outcome = await relay.SendAsync(message, new MailboxAddress(null, "support@acme.test"), [], CancellationToken.None);

        Assert.Equal(RelayOutcomeKind.Unsendable, outcome.Kind);
        Assert.Contains("No recipients have been specified", outcome.Detail);
    }

    [Fact]
    public async Task A_file_with_a_content_type_MimeKit_cannot_parse_goes_as_plain_bytes_rather_than_failing_the_reply()
    {
        var address = await MailSeed.AddressAsync(_app, "support@acme.test", DomainStatus.Verified);
        var (ticket, _) = await MailSeed.TicketAsync(_app, address);
        await using var scope = _app.Services.CreateAsyncScope();

        var result = await scope.ServiceProvider.GetRequiredService<ReplyService>().QueueReplyAsync(ticket.Id, "Attached.",
            [new ReplyAttachment("odd.bin", "not a/content type;;;=", "bytes"u8.ToArray())], null);

        Assert.Null(result.Error);
        var mail = Assert.Single(await _relay.WaitForAsync());
        Assert.Equal("application/octet-stream", mail.Message.Attachments.Single().ContentType.MimeType);
    }

    private static OutboundMail Row(CorporateAddress address, OutboundKind kind, string to, DateTimeOffset due, string? from = null,
        byte[]? mime = null, long? ticketMessageId = null)
    {
        var id = $"{Guid.NewGuid():N}@{MailSeed.InboundDomain}";
        var message = new MimeMessage { MessageId = id, Subject = $"{kind} to {Show(to)}" };
        message.From.Add(new MailboxAddress(null, address.TechnicalAddress));
        message.To.Add(new MailboxAddress(null, "placeholder@customer.example"));
        message.Body = new TextPart("plain") { Text = "Hello." };
        using var bytes = new MemoryStream();
        message.WriteTo(bytes);
        return new OutboundMail
        {
            Kind = kind,
            AddressId = address.Id,
            FromAddress = from ?? address.TechnicalAddress,
            ToAddress = to,
            Subject = message.Subject,
            MessageIdHeader = id,
            Mime = mime ?? bytes.ToArray(),
            NextAttemptAt = due,
            CreatedAt = due,
            TicketMessageId = ticketMessageId,
        };
    }

    private static string Show(string text) =>
        (text.Length > 40 ? text[..37] + "…" : text).Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private sealed record Problem(string Title);
    private sealed record TicketJson(long Id, string Customer);
}
