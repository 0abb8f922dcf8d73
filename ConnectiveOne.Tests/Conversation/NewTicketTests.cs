using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using MimeKit;

namespace ConnectiveOne.Tests.Conversation;

/// <summary>
/// Issue #14, new outbound ticket through the API: the mail leaves through the outbox to a real capture relay, and the
/// customer's answers come back through the real SMTP listener into the same ticket.
/// </summary>
[RunsLong(30)]
public sealed class NewTicketTests : IAsyncLifetime
{
    private const string Dana = "dana@customer.example";

    private CaptureRelay _relay = null!;
    private InboundApp _inbound = null!;
    private TestApp App => _inbound.App;

    public async Task InitializeAsync()
    {
        _relay = await CaptureRelay.StartAsync();
        _inbound = ConversationApp.Start(_relay);
    }

    public async Task DisposeAsync()
    {
        await _inbound.DisposeAsync();
        await _relay.DisposeAsync();
    }

    [Fact]
    public async Task A_ticket_started_from_the_API_is_Pending_goes_out_from_the_address_and_the_customers_answers_thread_into_it()
    {
        var address = await MailSeed.AddressAsync(App, "support@acme.test", DomainStatus.Verified);
        var api = App.CreateApiClient();
        (await api.PatchAsJsonAsync($"/api/v1/addresses/{address.Id}", new { displayName = "Acme Support", signature = "Acme Support\nMain Street 1" })).EnsureSuccessStatusCode();

        var response = await api.PostAsJsonAsync("/api/v1/tickets", new
        {
            addressId = address.Id,
            to = $"Dana Customer <{Dana}>",
            cc = new[] { "erik@customer.example" },
            subject = "Your renewal",
            text = "Your contract ends next month.",
        });

        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var ticket = await response.Content.ReadFromJsonAsync<JsonElement>();
        var ticketId = ticket.GetProperty("id").GetInt64();
        Assert.Equal($"/api/v1/tickets/{ticketId}", response.Headers.Location?.OriginalString);
        Assert.Equal("Pending", ticket.GetProperty("status").GetString());
        Assert.Equal(Dana, ticket.GetProperty("customer").GetString());
        Assert.Equal("Your renewal", ticket.GetProperty("subject").GetString());
        Assert.Equal([(Dana, "Customer"), ("erik@customer.example", "Cc")], Participants(ticket));
        Assert.Equal(["Outbound"], ticket.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("direction").GetString()));

        var sent = (await _relay.WaitForAsync(1))[0];
        Assert.Equal("\"Acme Support\" <support@acme.test>", sent.Message.From.ToString());
        Assert.Equal([Dana], sent.Message.To.Mailboxes.Select(m => m.Address));
        Assert.Equal("Dana Customer", sent.Message.To.Mailboxes.Single().Name);
        Assert.Equal(["erik@customer.example"], sent.Message.Cc.Mailboxes.Select(m => m.Address));
        Assert.Equal($"Your renewal [#{ticketId}]", sent.Message.Subject);
        Assert.Equal("Your contract ends next month.\n\n-- \nAcme Support\nMain Street 1", sent.Message.TextBody!.ReplaceLineEndings("\n").TrimEnd());

        // Dana answers from her client (In-Reply-To our mail); later Erik writes a fresh mail with only the [#N] tag.
        var answer = Mail(Dana, $"Re: Your renewal [#{ticketId}]", "dana-1@customer.example");
        answer.InReplyTo = sent.Message.MessageId;
        await _inbound.SendAsync(answer, address.TechnicalAddress);
        var fresh = Mail("erik@customer.example", $"Renewal question [#{ticketId}]", "erik-1@customer.example");
        await _inbound.SendAsync(fresh, address.TechnicalAddress);

        Assert.Equal(ticketId, await TicketOfAsync("dana-1@customer.example"));
        Assert.Equal(ticketId, await TicketOfAsync("erik-1@customer.example"));
        var after = await api.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{ticketId}");
        Assert.Equal([null, "Customer", "Cc"], after.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("fromRole").GetString()));
    }

    [Fact]
    public async Task A_multipart_new_email_carries_its_files_byte_identical()
    {
        var address = await MailSeed.AddressAsync(App, "support@acme.test", DomainStatus.Verified);
        var offer = RandomNumberGenerator.GetBytes(70_000);
        using var form = new MultipartFormDataContent
        {
            { new StringContent(address.Id.ToString()), "addressId" },
            { new StringContent(Dana), "to" },
            { new StringContent("Our offer"), "subject" },
            { new StringContent("Attached."), "text" },
            { new ByteArrayContent(offer) { Headers = { ContentType = new("application/pdf") } }, "files", "offer.pdf" },
        };

        var response = await App.CreateApiClient().PostAsync("/api/v1/tickets", form);

        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var part = (await _relay.WaitForAsync(1))[0].Message.Attachments.OfType<MimePart>().Single();
        Assert.Equal("offer.pdf", part.FileName);
        using var decoded = new MemoryStream();
        await part.Content!.DecodeToAsync(decoded);
        Assert.Equal(SHA256.HashData(offer), SHA256.HashData(decoded.ToArray()));
    }

    [Fact]
    public async Task Bad_input_is_refused_with_a_title_in_words_and_nothing_is_created()
    {
        var address = await MailSeed.AddressAsync(App, "support@acme.test", DomainStatus.Verified);
        var api = App.CreateApiClient();

        async Task<string> RefusedAsync(object body)
        {
            var response = await api.PostAsJsonAsync("/api/v1/tickets", body);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("title").GetString()!;
        }

        var unknown = Guid.NewGuid();
        Assert.Equal($"There is no address with id {unknown}: choose one of this helpdesk's addresses.",
            await RefusedAsync(new { addressId = unknown, to = Dana, subject = "Hi", text = "Hello" }));
        Assert.Equal("Choose the address to send from ('addressId').", await RefusedAsync(new { to = Dana, subject = "Hi", text = "Hello" }));
        Assert.Equal("A new email needs a subject.", await RefusedAsync(new { addressId = address.Id, to = Dana, subject = "  ", text = "Hello" }));
        Assert.Contains("\"dana at customer\" is not a usable address", await RefusedAsync(new { addressId = address.Id, to = "dana at customer", subject = "Hi", text = "Hello" }));
        Assert.Contains("Cc: \"erik@@customer.example\"", await RefusedAsync(new { addressId = address.Id, to = Dana, cc = new[] { "erik@@customer.example" }, subject = "Hi", text = "Hello" }));
        Assert.Contains("needs an address in To", await RefusedAsync(new { addressId = address.Id, subject = "Hi", text = "Hello" }));
        Assert.Contains("one of this helpdesk's own addresses", await RefusedAsync(new { addressId = address.Id, to = "support@acme.test", subject = "Hi", text = "Hello" }));
        Assert.Equal("A new email needs some text or an attachment.", await RefusedAsync(new { addressId = address.Id, to = Dana, subject = "Hi" }));
        await using var db = App.Database.OpenContext();
        Assert.Equal(0, await db.Tickets.CountAsync());
        Assert.Equal(0, await db.Outbox.CountAsync());
    }

    private static MimeMessage Mail(string from, string subject, string messageId) => new()
    {
        From = { MailboxAddress.Parse(from) },
        To = { MailboxAddress.Parse("support@acme.test") },
        Subject = subject,
        MessageId = messageId,
        Body = new TextPart("plain") { Text = "Thanks, noted." },
    };

    private async Task<long> TicketOfAsync(string messageId)
    {
        await using var db = App.Database.OpenContext();
        return await db.Messages.Where(m => m.MessageIdHeader == messageId).Select(m => m.TicketId).SingleAsync();
    }

    private static List<(string Email, string Role)> Participants(JsonElement ticket) =>
        ticket.GetProperty("participants").EnumerateArray().Select(p => (p.GetProperty("email").GetString()!, p.GetProperty("role").GetString()!)).ToList();
}
