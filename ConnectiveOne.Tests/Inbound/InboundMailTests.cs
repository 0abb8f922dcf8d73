using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ConnectiveOne.Core;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Inbound.Intake;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Tests.TestSupport;
using MailKit.Net.Smtp;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MimeKit;

namespace ConnectiveOne.Tests.Inbound;

/// <summary>Mail through the real SMTP listener and the webhooks into tickets, read back through the API.</summary>
[RunsLong(20)]
public sealed class InboundMailTests : IAsyncLifetime
{
    private readonly InboundApp _inbound = new(new Dictionary<string, string?> { ["ConnectiveOne:Smtp:MaxMessageBytes"] = "200000" });
    private HttpClient _api = null!;

    public Task InitializeAsync()
    {
        _api = _inbound.App.CreateApiClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _inbound.DisposeAsync();

    private static List<MimeMessage> Thread(string customer, string subject)
    {
        var messages = new List<MimeMessage>();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var m = new MimeMessage();
            m.From.Add(MailboxAddress.Parse(customer));
            m.To.Add(MailboxAddress.Parse("support@acme.test"));
            m.Subject = i == 0 ? subject : "Re: " + subject;
            m.MessageId = $"m{i}.{Guid.NewGuid():N}@customer.test";
            if (ids.Count > 0)
            {
                m.InReplyTo = ids[^1];
                foreach (var id in ids)
                    m.References.Add(id);
            }
            m.Body = new TextPart("plain") { Text = $"Message {i + 1} of the thread." };
            ids.Add(m.MessageId);
            messages.Add(m);
        }
        return messages;
    }

    private async Task<JsonElement> TicketsAsync() =>
        await _api.GetFromJsonAsync<JsonElement>("/api/v1/tickets?pageSize=200");

    private async Task<JsonElement> OnlyTicketOfAsync(string customer)
    {
        var list = await TicketsAsync();
        var mine = list.GetProperty("items").EnumerateArray().Where(t => t.GetProperty("customer").GetString() == customer).ToList();
        Assert.Single(mine);
        return await _api.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{mine[0].GetProperty("id").GetInt64()}");
    }

    private static void AssertThread(JsonElement ticket, List<MimeMessage> thread)
    {
        Assert.Equal(3, ticket.GetProperty("messageCount").GetInt32());
        Assert.Equal(ticket.GetProperty("id").GetInt64(), ticket.GetProperty("number").GetInt64());
        var messages = ticket.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(thread.Select(m => m.MessageId), messages.Select(m => m.GetProperty("messageId").GetString()));
        Assert.All(messages, m => Assert.Equal("Inbound", m.GetProperty("direction").GetString()));
        Assert.Equal("Open", ticket.GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_thread_by_smtp_becomes_one_ticket_in_order_and_repeats_add_nothing()
    {
        var address = await InboundAddresses.AddAsync(_inbound.App.Services, "support@acme.test");
        var thread = Thread("anna@customer.test", "Printer on fire");
        foreach (var m in thread)
            await _inbound.SendAsync(m, address.TechnicalAddress);
        foreach (var m in thread)
            await _inbound.SendAsync(m, address.TechnicalAddress);

        AssertThread(await OnlyTicketOfAsync("anna@customer.test"), thread);
        var addressRow = await ReadAsync(db => db.Addresses.SingleAsync(a => a.Id == address.Id));
        Assert.Equal(Core.Addresses.ForwardingStatus.Receiving, addressRow.Forwarding);
        Assert.NotNull(addressRow.LastReceivedAt);
    }

    [Fact]
    public async Task A_thread_by_webhook_becomes_one_ticket_in_order_and_repeats_add_nothing()
    {
        var address = await InboundAddresses.AddAsync(_inbound.App.Services, "help@beta.test");
        var thread = Thread("bert@customer.test", "Login broken");
        foreach (var m in thread.Concat(thread))
        {
            var response = await PostMimeAsync(address.TechnicalAddress, m);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        AssertThread(await OnlyTicketOfAsync("bert@customer.test"), thread);
    }

    [Fact]
    public async Task The_same_message_by_smtp_and_webhook_at_once_is_stored_once()
    {
        var address = await InboundAddresses.AddAsync(_inbound.App.Services, "race@acme.test");
        var message = Thread("cleo@customer.test", "Both ways")[0];
        var tasks = Enumerable.Range(0, 4).Select(i => i % 2 == 0
            ? _inbound.SendAsync(message, address.TechnicalAddress)
            : PostMimeAsync(address.TechnicalAddress, message)).ToList();
        await Task.WhenAll(tasks);
        var count = await ReadAsync(db => db.Messages.CountAsync(m => m.AddressId == address.Id));
        Assert.Equal(1, count);
    }

    [Fact]
    public async Task Replies_queued_with_their_parents_join_them_and_repeats_in_the_same_batch_add_nothing()
    {
        // Everything is queued before the writer can drain it, so parents, replies and repeats share group
        // commits: threading and duplicate checks must see the batch's unsaved messages.
        var address = await InboundAddresses.AddAsync(_inbound.App.Services, "batch@acme.test");
        var recipient = new InboundAddress(address.Id, address.Email, address.TechnicalAddress);
        var intake = _inbound.App.Services.GetRequiredService<InboundIntake>();
        var threads = Enumerable.Range(0, 20).Select(i => Thread($"batch{i}@customer.test", $"Queued together {i}")).ToList();
        foreach (var reply in threads.SelectMany(t => t.Skip(1)))
        {
            reply.From.Clear(); // a colleague answers: only the Message-IDs can join it to the ticket
            reply.From.Add(MailboxAddress.Parse("colleague@customer.test"));
        }
        foreach (var thread in threads.Where((_, i) => i % 2 == 0))
            thread[0].Body = new Multipart("mixed")
            {
                new TextPart("plain") { Text = "See the log." },
                new MimePart("application", "octet-stream") { FileName = "log.bin", Content = new MimeContent(new MemoryStream(Encoding.UTF8.GetBytes($"log of {thread[0].MessageId}"))) },
            };
        var raw = threads.SelectMany(t => t).Select(m => Encoding.UTF8.GetBytes(m.ToString())).ToList();
        var results = await Task.WhenAll(raw.Concat(raw).Select(bytes => intake.AcceptAsync(bytes, [recipient], "", "test", CancellationToken.None)));

        Assert.Equal(raw.Count, results.Count(r => r.Deliveries.Single().Outcome == IntakeOutcome.Stored));
        Assert.Equal(raw.Count, results.Count(r => r.Deliveries.Single().Outcome == IntakeOutcome.Duplicate));
        for (var i = 0; i < threads.Count; i++)
            AssertThread(await OnlyTicketOfAsync($"batch{i}@customer.test"), threads[i]);
        // Each log once (the repeats in the same batches add neither rows nor content), with the bytes it was sent with.
        var hashes = await ReadAsync(db => db.Attachments.Select(a => a.Sha256).ToListAsync());
        Assert.Equal(threads.Count / 2, hashes.Count);
        var contents = await ReadAsync(db => db.AttachmentContents.ToListAsync());
        Assert.Equal(hashes.Order(), contents.Select(c => c.Sha256).Order());
        Assert.All(contents, c => Assert.Equal(c.Sha256, Convert.ToHexStringLower(SHA256.HashData(c.Bytes))));
        Assert.All(contents, c => Assert.StartsWith("log of ", Encoding.UTF8.GetString(c.Bytes)));
    }

    [Fact]
    public async Task Stored_mail_is_announced_to_subscribers_after_the_commit()
    {
        var address = await InboundAddresses.AddAsync(_inbound.App.Services, "events@acme.test");
        var created = new TaskCompletionSource<ChangeEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = _inbound.App.Services.GetRequiredService<ChangeNotifier>().Subscribe(change =>
        {
            if (change.Kind == ChangeKind.TicketCreated)
                created.TrySetResult(change);
        });
        var message = Thread("dora@customer.test", "Tell everyone")[0];
        await _inbound.SendAsync(message, address.TechnicalAddress);

        var change = await created.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var ticket = await OnlyTicketOfAsync("dora@customer.test");
        Assert.Equal(ticket.GetProperty("id").GetInt64().ToString(), change.Id);
        Assert.Equal("Tell everyone", change.Summary);
    }

    [Fact]
    public async Task Unknown_recipients_and_relay_tricks_get_550()
    {
        var address = await InboundAddresses.AddAsync(_inbound.App.Services, "known@acme.test");
        var message = Thread("dan@customer.test", "Hello")[0];
        foreach (var rcpt in (string[])["nobody@inbound.localhost", "victim@gmail.com", $"victim%gmail.com@inbound.localhost"])
        {
            var error = await Assert.ThrowsAsync<SmtpCommandException>(() => _inbound.SendAsync(message, rcpt));
            Assert.Equal(550, (int)error.StatusCode);
        }
        // One unknown recipient among known ones: MailKit gives up on the whole message, and nothing is stored.
        await Assert.ThrowsAsync<SmtpCommandException>(() => _inbound.SendAsync(message, address.TechnicalAddress, "nobody@inbound.localhost"));
        Assert.Equal(0, await ReadAsync(db => db.Messages.CountAsync()));
    }

    [Fact]
    public async Task Oversized_mail_gets_552_by_smtp_and_413_by_webhook_and_nothing_is_stored()
    {
        var address = await InboundAddresses.AddAsync(_inbound.App.Services, "big@acme.test");
        var message = Thread("eve@customer.test", "Huge")[0];
        message.Body = new TextPart("plain") { Text = new string('x', 300_000) };
        var error = await Assert.ThrowsAsync<SmtpCommandException>(() => _inbound.SendAsync(message, address.TechnicalAddress));
        Assert.Equal(552, (int)error.StatusCode);

        // Without the SIZE parameter the limit holds on the data itself.
        var endpoint = await _inbound.SmtpEndpointAsync();
        using var client = new SmtpClient();
        await client.ConnectAsync(endpoint.Address.ToString(), endpoint.Port, MailKit.Security.SecureSocketOptions.None);
        client.Capabilities &= ~SmtpCapabilities.Size;
        var dataError = await Record.ExceptionAsync(() => client.SendAsync(message, MailboxAddress.Parse("x@example.org"), [MailboxAddress.Parse(address.TechnicalAddress)]));
        Assert.NotNull(dataError);

        var response = await PostMimeAsync(address.TechnicalAddress, message);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(0, await ReadAsync(db => db.Messages.CountAsync(m => m.AddressId == address.Id)));
    }

    [Fact]
    public async Task The_same_content_in_two_messages_is_stored_once_and_both_download_byte_identical()
    {
        var address = await InboundAddresses.AddAsync(_inbound.App.Services, "shared@acme.test");
        var blob = RandomNumberGenerator.GetBytes(40_000);
        var other = RandomNumberGenerator.GetBytes(1_000);
        MimeMessage WithFiles(string customer, params (string Name, byte[] Content)[] files)
        {
            var builder = new BodyBuilder { TextBody = "The file again." };
            foreach (var (name, content) in files)
                builder.Attachments.Add(name, content, new ContentType("application", "octet-stream"));
            var message = new MimeMessage();
            message.From.Add(MailboxAddress.Parse(customer));
            message.To.Add(MailboxAddress.Parse("shared@acme.test"));
            message.Subject = $"Contract from {customer}";
            message.Body = builder.ToMessageBody();
            return message;
        }
        // One by SMTP, one by the webhook (different commits); the second carries the content twice under two names.
        await _inbound.SendAsync(WithFiles("gus@customer.test", ("contract.bin", blob)), address.TechnicalAddress);
        var response = await PostMimeAsync(address.TechnicalAddress,
            WithFiles("hal@customer.test", ("contract-signed.bin", blob), ("copy.bin", blob), ("notes.bin", other)));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var ids = new List<long>();
        foreach (var customer in (string[])["gus@customer.test", "hal@customer.test"])
        {
            var files = (await OnlyTicketOfAsync(customer)).GetProperty("messages")[0].GetProperty("attachments").EnumerateArray().ToList();
            ids.AddRange(files.Where(f => f.GetProperty("fileName").GetString() != "notes.bin").Select(f => f.GetProperty("id").GetInt64()));
        }
        Assert.Equal(3, ids.Distinct().Count());
        foreach (var id in ids)
        {
            var download = await _api.GetAsync($"/api/v1/attachments/{id}");
            Assert.Equal(HttpStatusCode.OK, download.StatusCode);
            Assert.Equal(blob, await download.Content.ReadAsByteArrayAsync());
        }
        var sha = Convert.ToHexStringLower(SHA256.HashData(blob));
        Assert.Equal(3, await ReadAsync(db => db.Attachments.CountAsync(a => a.Sha256 == sha)));
        Assert.Equal(1, await ReadAsync(db => db.AttachmentContents.CountAsync(c => c.Sha256 == sha)));
        Assert.Equal(2, await ReadAsync(db => db.AttachmentContents.CountAsync()));
        // Nothing beside the database holds attachment content.
        Assert.False(Directory.Exists(Path.Combine(_inbound.App.DataDirectory, "attachments")));
    }

    [Fact]
    public async Task Attachments_and_the_raw_message_download_byte_identical()
    {
        var address = await InboundAddresses.AddAsync(_inbound.App.Services, "files@acme.test");
        var blob = RandomNumberGenerator.GetBytes(50_000);
        var image = RandomNumberGenerator.GetBytes(3_000);
        var builder = new BodyBuilder { TextBody = "See attached." };
        builder.Attachments.Add("report.bin", blob, new ContentType("application", "octet-stream"));
        var inline = builder.LinkedResources.Add("logo.png", image, new ContentType("image", "png"));
        inline.ContentId = "logo@customer.test";
        builder.HtmlBody = "<p>Hi <img src=\"cid:logo@customer.test\"> <img src=\"https://tracker.example/p.gif\"><script>alert(1)</script><a href=\"javascript:alert(2)\" onclick=\"x()\">x</a></p>";
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("fay@customer.test"));
        message.To.Add(MailboxAddress.Parse("files@acme.test"));
        message.Subject = "With files";
        message.Body = builder.ToMessageBody();
        using var sent = new MemoryStream();
        message.WriteTo(sent);
        var raw = sent.ToArray();
        var response = await _inbound.App.CreateApiClient(null).SendAsync(MimeRequest(address.TechnicalAddress, raw));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var ticket = await OnlyTicketOfAsync("fay@customer.test");
        var stored = ticket.GetProperty("messages")[0];
        var attachments = stored.GetProperty("attachments").EnumerateArray().ToList();
        var report = attachments.Single(a => a.GetProperty("fileName").GetString() == "report.bin");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(blob)), report.GetProperty("sha256").GetString());

        var download = await _api.GetAsync($"/api/v1/attachments/{report.GetProperty("id").GetInt64()}");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("attachment", download.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("nosniff", download.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal(SHA256.HashData(blob), SHA256.HashData(await download.Content.ReadAsByteArrayAsync()));

        var rawDownload = await _api.GetAsync($"/api/v1/messages/{stored.GetProperty("id").GetInt64()}/raw");
        Assert.Equal("attachment", rawDownload.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal(raw, await rawDownload.Content.ReadAsByteArrayAsync());

        var html = stored.GetProperty("html").GetString()!;
        var logo = attachments.Single(a => a.GetProperty("fileName").GetString() == "logo.png").GetProperty("id").GetInt64();
        Assert.Contains($"src=\"/files/attachments/{logo}\"", html);
        Assert.Contains("data-remote-src=\"https://tracker.example/p.gif\"", html);
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("javascript:", html);
        Assert.DoesNotContain("onclick", html);
        Assert.True(stored.GetProperty("hasRemoteImages").GetBoolean());

        // The console's cookie route serves the inline image to a signed-in person.
        var browser = _inbound.App.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync($"/files/attachments/{logo}")).StatusCode);
        await CookieSignIn.SignInAsync(browser, TestApp.AdminEmail, TestApp.AdminPassword);
        Assert.Equal(image, await browser.GetByteArrayAsync($"/files/attachments/{logo}"));
    }

    [Fact]
    public async Task Auto_replies_and_bounces_are_flagged()
    {
        var address = await InboundAddresses.AddAsync(_inbound.App.Services, "flags@acme.test");
        var auto = new MimeMessage();
        auto.From.Add(MailboxAddress.Parse("gus@customer.test"));
        auto.To.Add(MailboxAddress.Parse("flags@acme.test"));
        auto.Subject = "Out of office";
        auto.Headers.Add("Auto-Submitted", "auto-replied");
        auto.Body = new TextPart("plain") { Text = "I am away." };
        await _inbound.SendAsync(auto, address.TechnicalAddress);
        var bounce = Corpus.LoadMessage(Corpus.PathOf("bounce/chatwoot/bounced_gmail.eml"));
        await _inbound.SendAsync(bounce, address.TechnicalAddress);

        var flags = new List<string>();
        foreach (var item in (await TicketsAsync()).GetProperty("items").EnumerateArray())
        {
            var ticket = await _api.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{item.GetProperty("id").GetInt64()}");
            foreach (var m in ticket.GetProperty("messages").EnumerateArray())
                flags.AddRange(m.GetProperty("flags").EnumerateArray().Select(f => f.GetString()!));
        }
        Assert.Contains("AutoReply", flags);
        Assert.Contains("Bounce", flags);
    }

    [Fact]
    public async Task A_forwarding_test_mail_confirms_forwarding_and_makes_no_ticket()
    {
        var address = await InboundAddresses.AddAsync(_inbound.App.Services, "fwd@acme.test");
        await WriteAsync(async db =>
        {
            var row = await db.Addresses.SingleAsync(a => a.Id == address.Id);
            row.ForwardingTestToken = "tok3n5ecret";
        });
        var test = new MimeMessage();
        test.From.Add(MailboxAddress.Parse("fwd@acme.test"));
        test.To.Add(MailboxAddress.Parse("fwd@acme.test"));
        test.Subject = "ConnectiveOne forwarding test tok3n5ecret";
        test.Headers.Add("X-ConnectiveOne-Forwarding-Test", "tok3n5ecret");
        test.Body = new TextPart("plain") { Text = "Test." };
        await _inbound.SendAsync(test, address.TechnicalAddress);

        var row = await ReadAsync(db => db.Addresses.SingleAsync(a => a.Id == address.Id));
        Assert.Equal(Core.Addresses.ForwardingStatus.Confirmed, row.Forwarding);
        Assert.Null(row.ForwardingTestToken);
        Assert.Equal(0, await ReadAsync(db => db.Tickets.CountAsync(t => t.AddressId == address.Id)));
    }

    [Fact]
    public async Task Mail_forwarded_as_a_new_message_marks_the_address()
    {
        var address = await InboundAddresses.AddAsync(_inbound.App.Services, "fwdas@acme.test");
        var forwarded = new MimeMessage();
        forwarded.From.Add(MailboxAddress.Parse("fwdas@acme.test"));
        forwarded.To.Add(MailboxAddress.Parse("x@inbound.localhost"));
        forwarded.Subject = "Fwd: question";
        forwarded.Body = new TextPart("plain") { Text = "---------- Forwarded message ---------\nFrom: hal@customer.test\n" };
        await _inbound.SendAsync(forwarded, address.TechnicalAddress);
        var row = await ReadAsync(db => db.Addresses.SingleAsync(a => a.Id == address.Id));
        Assert.Equal(Core.Addresses.ForwardingStatus.ForwardedNotRedirected, row.Forwarding);
        Assert.False(string.IsNullOrEmpty(row.ForwardingDetail));
    }

    [Fact]
    public async Task A_reply_reopens_a_resolved_ticket()
    {
        var address = await InboundAddresses.AddAsync(_inbound.App.Services, "reopen@acme.test");
        var thread = Thread("ida@customer.test", "Still broken");
        await _inbound.SendAsync(thread[0], address.TechnicalAddress);
        await WriteAsync(async db => (await db.Tickets.SingleAsync(t => t.AddressId == address.Id)).Status = Core.Tickets.TicketStatus.Resolved);
        await _inbound.SendAsync(thread[1], address.TechnicalAddress);
        var ticket = await OnlyTicketOfAsync("ida@customer.test");
        Assert.Equal("Open", ticket.GetProperty("status").GetString());
        Assert.Equal(2, ticket.GetProperty("messageCount").GetInt32());
    }

    [Fact]
    public async Task The_webhooks_check_their_credentials()
    {
        var address = await InboundAddresses.AddAsync(_inbound.App.Services, "hooks@acme.test");
        var anonymous = _inbound.App.CreateApiClient(null);
        var message = Thread("jo@customer.test", "Via Mailgun")[0];

        var wrongToken = MimeRequest(address.TechnicalAddress, Bytes(message));
        wrongToken.Headers.Remove("X-Webhook-Token");
        wrongToken.Headers.Add("X-Webhook-Token", "wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.SendAsync(wrongToken)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.SendAsync(MimeRequest("nobody@inbound.localhost", Bytes(message)))).StatusCode);

        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/api/v1/inbound/mailgun",
            InboundApp.MailgunForm(address.TechnicalAddress, message, now, "t1", signature: "00ff"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/api/v1/inbound/mailgun",
            InboundApp.MailgunForm(address.TechnicalAddress, message, (DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 600).ToString(), "t2"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotAcceptable, (await anonymous.PostAsync("/api/v1/inbound/mailgun",
            InboundApp.MailgunForm("nobody@inbound.localhost", message, now, "t3"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.PostAsync("/api/v1/inbound/mailgun",
            InboundApp.MailgunForm(address.TechnicalAddress, message, now, "t4"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/api/v1/inbound/mailgun",
            InboundApp.MailgunForm(address.TechnicalAddress, message, now, "t4"))).StatusCode);
        Assert.Equal(1, await ReadAsync(db => db.Messages.CountAsync(m => m.AddressId == address.Id)));
    }

    [Fact]
    public async Task The_ticket_list_filters_and_pages()
    {
        var address = await InboundAddresses.AddAsync(_inbound.App.Services, "list@acme.test");
        for (var i = 0; i < 3; i++)
            await _inbound.SendAsync(Thread($"k{i}@customer.test", $"Topic number {i}")[0], address.TechnicalAddress);
        var page = await _api.GetFromJsonAsync<JsonElement>("/api/v1/tickets?q=number%201&status=open");
        Assert.Equal(1, page.GetProperty("total").GetInt32());
        Assert.Equal("k1@customer.test", page.GetProperty("items")[0].GetProperty("customer").GetString());
        var paged = await _api.GetFromJsonAsync<JsonElement>("/api/v1/tickets?page=2&pageSize=2");
        Assert.Equal(3, paged.GetProperty("total").GetInt32());
        Assert.Equal("k0@customer.test", paged.GetProperty("items")[0].GetProperty("customer").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await _api.GetAsync("/api/v1/tickets?pageSize=201")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _api.GetAsync("/api/v1/tickets?status=Closed")).StatusCode);
    }

    private static byte[] Bytes(MimeMessage message)
    {
        using var stream = new MemoryStream();
        message.WriteTo(stream);
        return stream.ToArray();
    }

    private static HttpRequestMessage MimeRequest(string recipient, byte[] raw)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/inbound/mime?recipient={Uri.EscapeDataString(recipient)}")
        {
            Content = new ByteArrayContent(raw),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("message/rfc822");
        request.Headers.Add("X-Webhook-Token", InboundApp.WebhookToken);
        return request;
    }

    private Task<HttpResponseMessage> PostMimeAsync(string recipient, MimeMessage message) =>
        _inbound.App.CreateApiClient(null).SendAsync(MimeRequest(recipient, Bytes(message)));

    private async Task<T> ReadAsync<T>(Func<AppDbContext, Task<T>> query)
    {
        await using var scope = _inbound.App.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<AppDbContext>());
    }

    private async Task WriteAsync(Func<AppDbContext, Task> change)
    {
        await using var scope = _inbound.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await change(db);
        await db.SaveChangesAsync();
    }
}
