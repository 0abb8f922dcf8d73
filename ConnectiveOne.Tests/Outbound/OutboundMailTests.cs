using System.Data.Common;
using System.Net;
using System.Net.Http.Json;
using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Outbound;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Threading;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.Dns;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using MimeKit.Cryptography;

namespace ConnectiveOne.Tests.Outbound;

/// <summary>
/// Test emails, replies and forwarding tests through the whole app to a real SMTP capture relay; DKIM signatures
/// verified with MimeKit against the key served by a real DNS server.
/// </summary>
[RunsLong(20)]
public sealed class OutboundMailTests : IAsyncLifetime
{
    private CaptureRelay _relay = null!;
    private FakeDnsServer _dns = null!;
    private TestApp _app = null!;
    private readonly List<ChangeEvent> _events = [];
    private IDisposable? _subscription;

    public async Task InitializeAsync()
    {
        _relay = await CaptureRelay.StartAsync();
        _dns = FakeDnsServer.Start();
        _dns.SetTxt($"k1._domainkey.acme.test", SplitTxt(TestKeys.K1.TxtValue));
        _app = NewApp(_relay.Settings);
        _subscription = _app.Services.GetRequiredService<ChangeNotifier>().Subscribe(e =>
        {
            lock (_events)
                _events.Add(e);
        });
    }

    public async Task DisposeAsync()
    {
        _subscription?.Dispose();
        await _app.DisposeAsync();
        await _relay.DisposeAsync();
        await _dns.DisposeAsync();
    }

    private static TestApp NewApp(IDictionary<string, string?> relaySettings)
    {
        var settings = new Dictionary<string, string?>(relaySettings)
        {
            ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain,
            ["ConnectiveOne:Outbound:RetryDelays"] = "00:00:00.2",
            ["ConnectiveOne:Outbound:PollInterval"] = "00:00:01",
            ["ConnectiveOne:Outbound:Timeout"] = "00:00:10",
        };
        return new TestApp(settings: settings);
    }

    [Fact]
    public async Task A_test_email_from_a_verified_domain_comes_from_the_corporate_address_with_a_valid_DKIM_signature()
    {
        var address = await MailSeed.AddressAsync(_app, "support@acme.test", DomainStatus.Verified);

        var response = await _app.CreateApiClient().PostAsJsonAsync($"/api/v1/addresses/{address.Id}/test", new { to = "tester@elsewhere.example" });

        response.EnsureSuccessStatusCode();
        var result = await response.Content.ReadFromJsonAsync<TestResponse>();
        Assert.Equal("Sent", result!.Status);
        Assert.Contains("accepted", result.Detail);
        var mail = Assert.Single(await _relay.WaitForAsync());
        Assert.Equal("support@acme.test", mail.Message.From.Mailboxes.Single().Address);
        Assert.Equal("support@acme.test", mail.EnvelopeFrom);
        Assert.Equal(["tester@elsewhere.example"], mail.EnvelopeTo);
        Assert.Equal("auto-generated", mail.Message.Headers["Auto-Submitted"]);
        Assert.Equal(MailSeed.InboundDomain, mail.Message.Headers["X-Loop"]);
        await AssertDkimValidAsync(mail.Message, "acme.test");
    }

    [Fact]
    public async Task A_test_email_from_an_unverified_domain_comes_from_the_technical_address_unsigned()
    {
        var address = await MailSeed.AddressAsync(_app, "help@pending.test", DomainStatus.Pending);

        var response = await _app.CreateApiClient().PostAsJsonAsync($"/api/v1/addresses/{address.Id}/test", new { to = "tester@elsewhere.example" });

        Assert.Equal("Sent", (await response.Content.ReadFromJsonAsync<TestResponse>())!.Status);
        var mail = Assert.Single(await _relay.WaitForAsync());
        Assert.Equal(address.TechnicalAddress, mail.Message.From.Mailboxes.Single().Address);
        Assert.Equal(address.TechnicalAddress, mail.EnvelopeFrom);
        Assert.False(mail.Message.Headers.Contains(HeaderId.DkimSignature));
        Assert.EndsWith("@" + MailSeed.InboundDomain, mail.Message.MessageId);
    }

    [Fact]
    public async Task A_test_email_the_relay_refuses_fails_with_the_relays_words_and_is_kept_in_the_history()
    {
        var address = await MailSeed.AddressAsync(_app, "support@acme.test", DomainStatus.Verified);
        _relay.RefuseAll(554, "5.7.1 Sender domain acme.test is not allowed on this account");

        var response = await _app.CreateApiClient().PostAsJsonAsync($"/api/v1/addresses/{address.Id}/test", new { to = "tester@elsewhere.example" });

        var result = await response.Content.ReadFromJsonAsync<TestResponse>();
        Assert.Equal("Failed", result!.Status);
        Assert.Contains("554", result.Detail);
        Assert.Contains("Sender domain acme.test is not allowed on this account", result.Detail);
        var history = await _app.CreateApiClient().GetFromJsonAsync<List<HistoryItem>>($"/api/v1/addresses/{address.Id}/tests");
        var item = Assert.Single(history!);
        Assert.Equal(("Test", "Failed", "tester@elsewhere.example"), (item.Kind, item.Status, item.To));
        Assert.Contains("5.7.1", item.Detail);
    }

    [Fact]
    public async Task Without_a_relay_a_test_fails_saying_why_and_a_bad_recipient_is_a_400()
    {
        await using var app = NewApp(new Dictionary<string, string?>());
        var address = await MailSeed.AddressAsync(app, "support@acme.test", DomainStatus.Verified);
        var client = app.CreateApiClient();

        var result = await (await client.PostAsJsonAsync($"/api/v1/addresses/{address.Id}/test", new { to = "tester@elsewhere.example" }))
            .Content.ReadFromJsonAsync<TestResponse>();
        var invalid = await client.PostAsJsonAsync($"/api/v1/addresses/{address.Id}/test", new { to = "not an address" });
        var unknown = await client.PostAsJsonAsync($"/api/v1/addresses/{Guid.NewGuid()}/test", new { to = "tester@elsewhere.example" });

        Assert.Equal(("Failed", RelayClient.NotConfiguredMessage), (result!.Status, result.Detail));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("not an email address", (await invalid.Content.ReadFromJsonAsync<Problem>())!.Title);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task A_reply_from_a_verified_domain_threads_carries_the_ticket_number_and_verifies()
    {
        var address = await MailSeed.AddressAsync(_app, "support@acme.test", DomainStatus.Verified);
        var (ticket, customer) = await MailSeed.TicketAsync(_app, address, "Re: Printer on fire", references: "<first@customer.example>");
        var pdf = "%PDF-1.4 pretend"u8.ToArray();

        var reply = await QueueReplyAsync(ticket.Id, "We are on it.", [new ReplyAttachment("invoice.pdf", "application/pdf", pdf)]);

        var mail = Assert.Single(await _relay.WaitForAsync());
        var message = mail.Message;
        Assert.Equal("support@acme.test", message.From.Mailboxes.Single().Address);
        Assert.Equal(["carol@customer.example"], mail.EnvelopeTo);
        Assert.Equal($"Re: Printer on fire [#{ticket.Id}]", message.Subject);
        Assert.Equal(customer.MessageIdHeader, message.InReplyTo);
        Assert.Equal(["first@customer.example", customer.MessageIdHeader!], message.References.ToArray());
        Assert.True(MessageIdFormat.TryParse(message.MessageId, out var ours));
        Assert.Equal((ticket.Id, ticket.ThreadToken, MailSeed.InboundDomain), (ours.TicketNumber, ours.ThreadToken, ours.Domain));
        Assert.False(message.Headers.Contains("Auto-Submitted"));
        Assert.Equal(pdf, ((MimePart)message.Attachments.Single()).Content!.Open().ReadAllBytes());
        await AssertDkimValidAsync(message, "acme.test");

        var stored = await MailSeed.WaitForAsync(_app, db => db.Messages.AsNoTracking().Include(m => m.Attachments)
            .FirstOrDefaultAsync(m => m.Id == reply), m => m.Delivery == DeliveryState.Sent);
        Assert.Equal(MessageDirection.Outbound, stored.Direction);
        Assert.Equal(message.MessageId, stored.MessageIdHeader);
        var attachment = Assert.Single(stored.Attachments);
        await using var scope = _app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        Assert.Equal(pdf, (await db.AttachmentContents.SingleAsync(c => c.Sha256 == attachment.Sha256)).Bytes);
        // The SMTP data terminator takes the last line break, so compare without it.
        Assert.Equal(WithoutFinalCrlf(mail.Bytes), WithoutFinalCrlf((await db.RawMessages.SingleAsync(r => r.MessageId == reply)).Bytes));
        Assert.Equal(2, (await db.Tickets.SingleAsync(t => t.Id == ticket.Id)).MessageCount);
        lock (_events)
        {
            Assert.Contains(_events, e => e.Kind == ChangeKind.MessageAdded && e.Id == ticket.Id.ToString());
            Assert.Contains(_events, e => e.Kind == ChangeKind.DeliveryStatusChanged && e.Id == reply.ToString());
        }
    }

    [Fact]
    public async Task A_reply_from_an_unverified_domain_comes_from_the_technical_address_unsigned()
    {
        var address = await MailSeed.AddressAsync(_app, "help@pending.test", DomainStatus.Failed, ForwardingStatus.Confirmed);
        var (ticket, _) = await MailSeed.TicketAsync(_app, address, $"Question [#1]");

        await QueueReplyAsync(ticket.Id, "Answer.", []);

        var message = Assert.Single(await _relay.WaitForAsync()).Message;
        Assert.Equal(address.TechnicalAddress, message.From.Mailboxes.Single().Address);
        Assert.False(message.Headers.Contains(HeaderId.DkimSignature));
        Assert.Equal($"Re: Question [#{ticket.Id}]", message.Subject);
    }

    [Fact]
    public async Task A_4xx_from_the_relay_is_retried_and_then_succeeds()
    {
        var address = await MailSeed.AddressAsync(_app, "support@acme.test", DomainStatus.Verified);
        var (ticket, _) = await MailSeed.TicketAsync(_app, address);
        _relay.RefuseNext((451, "4.3.0 Try again later"), (421, "4.7.0 Too many connections"));

        var reply = await QueueReplyAsync(ticket.Id, "Second try is the charm.", []);

        var sent = await MailSeed.WaitForOutboxAsync(_app, m => m.State != DeliveryState.Queued);
        Assert.Equal((DeliveryState.Sent, 3), (sent.State, sent.Attempts));
        Assert.Equal(2, _relay.RefusedCount);
        var mail = Assert.Single(await _relay.WaitForAsync());
        await AssertDkimValidAsync(mail.Message, "acme.test");
        var message = await MailSeed.WaitForAsync(_app, db => db.Messages.FindAsync(reply).AsTask(), m => m.Delivery == DeliveryState.Sent);
        Assert.Contains("accepted", message.DeliveryDetail);
    }

    [Fact]
    public async Task A_5xx_from_the_relay_fails_the_reply_at_once_with_the_relays_words()
    {
        var address = await MailSeed.AddressAsync(_app, "support@acme.test", DomainStatus.Verified);
        var (ticket, _) = await MailSeed.TicketAsync(_app, address);
        _relay.RefuseAll(550, "5.1.1 Mailbox carol does not exist");

        var reply = await QueueReplyAsync(ticket.Id, "Hello?", []);

        var failed = await MailSeed.WaitForOutboxAsync(_app, m => m.State != DeliveryState.Queued);
        Assert.Equal((DeliveryState.Failed, 1), (failed.State, failed.Attempts));
        var message = await MailSeed.WaitForAsync(_app, db => db.Messages.FindAsync(reply).AsTask(), m => m.Delivery == DeliveryState.Failed);
        Assert.Contains("550", message.DeliveryDetail);
        Assert.Contains("Mailbox carol does not exist", message.DeliveryDetail);
        Assert.Empty(_relay.Received);
        // The event follows the commit that the query above already sees: wait for it a moment.
        for (var i = 0; i < 200 && !SawDeliveryChange(reply); i++)
            await Task.Delay(25);
        lock (_events)
            Assert.Contains(_events, e => e.Kind == ChangeKind.DeliveryStatusChanged && e.Id == reply.ToString());
    }

    private bool SawDeliveryChange(long messageId)
    {
        lock (_events)
            return _events.Any(e => e.Kind == ChangeKind.DeliveryStatusChanged && e.Id == messageId.ToString());
    }

    [Fact]
    public async Task Without_a_relay_a_reply_waits_in_the_outbox_saying_why()
    {
        await using var app = NewApp(new Dictionary<string, string?>());
        var address = await MailSeed.AddressAsync(app, "support@acme.test", DomainStatus.Verified);
        var (ticket, _) = await MailSeed.TicketAsync(app, address);

        await using var scope = app.Services.CreateAsyncScope();
        var result = await scope.ServiceProvider.GetRequiredService<ReplyService>().QueueReplyAsync(ticket.Id, "Soon.", [], null);

        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var message = await db.Messages.AsNoTracking().SingleAsync(m => m.Id == result.MessageId);
        Assert.Equal((DeliveryState.Queued, RelayClient.NotConfiguredMessage), (message.Delivery, message.DeliveryDetail));
        var outbox = await db.Outbox.AsNoTracking().SingleAsync();
        Assert.Equal((DeliveryState.Queued, 0), (outbox.State, outbox.Attempts));
    }

    [Fact]
    public async Task A_file_sent_again_in_replies_keeps_one_copy_of_its_content()
    {
        await using var app = NewApp(new Dictionary<string, string?>());
        var address = await MailSeed.AddressAsync(app, "support@acme.test", DomainStatus.Verified);
        var (ticket, _) = await MailSeed.TicketAsync(app, address);
        var pdf = "%PDF-1.4 the same terms"u8.ToArray();
        var other = "%PDF-1.4 other terms"u8.ToArray();

        await using var scope = app.Services.CreateAsyncScope();
        var replies = scope.ServiceProvider.GetRequiredService<ReplyService>();
        // Twice in one reply (one transaction), then again in a later reply (content already stored).
        var first = await replies.QueueReplyAsync(ticket.Id, "Terms attached.",
            [new ReplyAttachment("terms.pdf", "application/pdf", pdf), new ReplyAttachment("terms-copy.pdf", "application/pdf", pdf)], null);
        var second = await replies.QueueReplyAsync(ticket.Id, "Again.",
            [new ReplyAttachment("terms.pdf", "application/pdf", pdf), new ReplyAttachment("other.pdf", "application/pdf", other)], null);

        Assert.Null(first.Error);
        Assert.Null(second.Error);
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var contents = await db.AttachmentContents.AsNoTracking().ToListAsync();
        Assert.Equal(2, contents.Count);
        Assert.Equal(4, await db.Attachments.CountAsync());
        var queries = scope.ServiceProvider.GetRequiredService<TicketQueries>();
        foreach (var id in await db.Attachments.Select(a => a.Id).ToListAsync())
        {
            var download = await queries.GetAttachmentAsync(id, CancellationToken.None);
            Assert.Equal(download!.FileName == "other.pdf" ? other : pdf, download.Bytes);
        }
    }

    [Fact]
    public async Task Two_replies_at_once_on_one_ticket_with_the_same_new_file_both_land_counted_with_one_copy_of_it()
    {
        var address = await MailSeed.AddressAsync(_app, "support@acme.test", DomainStatus.Verified);
        var (ticket, _) = await MailSeed.TicketAsync(_app, address);
        var pdf = "%PDF-1.4 terms sent by two operators at once"u8.ToArray();
        var meeting = new Rendezvous("AttachmentContents");

        // Two operators' replies, each with its own context, meeting where they store the file's content.
        Task<ReplyResult> ReplyAsync(string text) =>
            MailSeed.ReplyWithAsync(_app, ticket.Id, text, [new ReplyAttachment("terms.pdf", "application/pdf", pdf)], meeting);
        var results = await Task.WhenAll(Task.Run(() => ReplyAsync("From Ann.")), Task.Run(() => ReplyAsync("From Ben.")));

        Assert.All(results, r => Assert.Null(r.Error));
        // On PostgreSQL both were inside the content step together; SQLite's write lock lets only one in at a time.
        Assert.True(meeting.Met || !TestDatabase.IsPostgres, "The two replies never stored their content at the same time.");
        await using var check = _app.Database.OpenContext();
        var sha256 = AttachmentContent.HashOf(pdf);
        Assert.Equal(1, await check.AttachmentContents.CountAsync(c => c.Sha256 == sha256));
        Assert.Equal(2, await check.Attachments.CountAsync(a => a.Sha256 == sha256));
        var stored = await check.Tickets.AsNoTracking().SingleAsync(t => t.Id == ticket.Id);
        Assert.Equal(await check.Messages.CountAsync(m => m.TicketId == ticket.Id), stored.MessageCount);
        Assert.Equal(3, stored.MessageCount);
    }

    [Fact]
    public async Task A_forwarding_test_mails_the_corporate_address_from_the_technical_address_with_its_token()
    {
        var address = await MailSeed.AddressAsync(_app, "support@acme.test", DomainStatus.Verified);

        var response = await _app.CreateApiClient().PostAsync($"/api/v1/addresses/{address.Id}/forwarding-test", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var mail = Assert.Single(await _relay.WaitForAsync());
        await using var scope = _app.Services.CreateAsyncScope();
        var stored = await scope.ServiceProvider.GetRequiredService<AppDbContext>().Addresses.AsNoTracking().SingleAsync(a => a.Id == address.Id);
        Assert.NotNull(stored.ForwardingTestToken);
        Assert.NotNull(stored.ForwardingTestSentAt);
        Assert.Equal(["support@acme.test"], mail.EnvelopeTo);
        Assert.Equal(address.TechnicalAddress, mail.Message.From.Mailboxes.Single().Address);
        Assert.Equal(stored.ForwardingTestToken, mail.Message.Headers[TestMailService.ForwardingTestHeader]);
        Assert.Equal($"ConnectiveOne forwarding test {stored.ForwardingTestToken}", mail.Message.Subject);
        Assert.Equal("auto-generated", mail.Message.Headers["Auto-Submitted"]);
        Assert.Equal(MailSeed.InboundDomain, mail.Message.Headers["X-Loop"]);
    }

    private async Task<long> QueueReplyAsync(long ticketId, string text, IReadOnlyList<ReplyAttachment> files)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var result = await scope.ServiceProvider.GetRequiredService<ReplyService>().QueueReplyAsync(ticketId, text, files, "operator-1");
        Assert.Null(result.Error);
        return result.MessageId!.Value;
    }

    private async Task AssertDkimValidAsync(MimeMessage message, string domain)
    {
        var index = message.Headers.IndexOf(HeaderId.DkimSignature);
        Assert.True(index >= 0, "The message has no DKIM-Signature header.");
        var signature = message.Headers[index];
        Assert.Contains($"d={domain}", signature.Value);
        Assert.Contains("s=k1", signature.Value);
        Assert.Contains("c=relaxed/relaxed", signature.Value);
        var verifier = new DkimVerifier(new DnsDkimKeyLocator(_dns.Port));
        Assert.True(await verifier.VerifyAsync(message, signature), "The DKIM signature does not verify against k1._domainkey." + domain);
    }

    private static byte[] WithoutFinalCrlf(byte[] bytes) => bytes.AsSpan().EndsWith("\r\n"u8) ? bytes[..^2] : bytes;

    /// <summary>DNS TXT strings are at most 255 bytes, as a DNS panel publishes a long key.</summary>
    private static string[] SplitTxt(string value) => value.Chunk(255).Select(c => new string(c)).ToArray();

    private sealed record TestResponse(string Status, string Detail);
    private sealed record HistoryItem(string Kind, string Status, string To, string? Detail);
    private sealed record Problem(string Title);

    /// <summary>
    /// Holds the first command that names <paramref name="table"/> until a second one arrives (or 2 s pass, as when
    /// the database itself lets only one writer in), so two requests are inside the same step together.
    /// </summary>
    private sealed class Rendezvous(string table) : DbCommandInterceptor
    {
        private int _arrived;
        private readonly TaskCompletionSource _both = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Met => _both.Task.IsCompleted;

        private async Task MeetAsync(DbCommand command)
        {
            if (!command.CommandText.Contains(table, StringComparison.Ordinal))
                return;
            if (Interlocked.Increment(ref _arrived) >= 2)
                _both.TrySetResult();
            await Task.WhenAny(_both.Task, Task.Delay(TimeSpan.FromSeconds(2)));
        }

        public override async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command,
            CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            await MeetAsync(command);
            return result;
        }

        public override async ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command,
            CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
        {
            await MeetAsync(command);
            return result;
        }
    }
}

internal static class StreamExtensions
{
    public static byte[] ReadAllBytes(this Stream stream)
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
