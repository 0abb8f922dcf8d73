using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Outbound.Forwarding;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Tickets;
using Microsoft.Extensions.DependencyInjection;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using MimeKit;

namespace ConnectiveOne.Tests.Conversation;

/// <summary>
/// Issue #14, forward, end to end: the customer's mail comes in through the real SMTP listener, the forward leaves through
/// the outbox to a real capture relay, and the third party's answer comes back in through the listener.
/// </summary>
[RunsLong(30)]
public sealed class ForwardTests : IAsyncLifetime
{
    private const string Carol = "carol@customer.example";
    private const string Ann = "ann@customer.example";
    private const string Supplier = "parts@supplier.example";

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
    public async Task The_third_party_gets_the_attachments_byte_identical_its_answer_lands_as_ThirdParty_and_the_next_reply_leaves_it_out()
    {
        var address = await MailSeed.AddressAsync(App, "support@acme.test", DomainStatus.Verified);
        var api = App.CreateApiClient();
        var photo = RandomNumberGenerator.GetBytes(150_000);
        var invoice = RandomNumberGenerator.GetBytes(33_333);

        // Carol writes with two files, copying her colleague Ann.
        var first = Mail("Carol Customer", Carol, "Broken pump", "pump@customer.example");
        first.Cc.Add(new MailboxAddress("Ann", Ann));
        var body = new BodyBuilder { TextBody = "The pump leaks, photo and invoice attached." };
        body.Attachments.Add("pump.jpg", photo, new ContentType("image", "jpeg"));
        body.Attachments.Add("invoice.pdf", invoice, new ContentType("application", "pdf"));
        first.Body = body.ToMessageBody();
        await _inbound.SendAsync(first, address.TechnicalAddress);
        var ticketId = await TicketOfAsync("pump@customer.example");
        var carolMessage = (await api.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{ticketId}")).GetProperty("messages")[0].GetProperty("id").GetInt64();

        // The operator forwards that message to the supplier with a note.
        var response = await api.PostAsJsonAsync($"/api/v1/tickets/{ticketId}/forward",
            new { to = $"Parts Desk <{Supplier}>", text = "Can you replace this under warranty?", messageIds = new[] { carolMessage } });
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var forwardId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("messageId").GetInt64();

        var forward = (await _relay.WaitForAsync(1))[0];
        Assert.Equal([Supplier], forward.EnvelopeTo);
        Assert.Equal([Supplier], forward.Message.To.Mailboxes.Select(m => m.Address));
        Assert.Empty(forward.Message.Cc);
        Assert.Equal($"Fwd: Broken pump [#{ticketId}]", forward.Message.Subject);
        var text = forward.Message.TextBody!.ReplaceLineEndings("\n");
        Assert.StartsWith("Can you replace this under warranty?\n\n" + ForwardedText.Separator + "\nFrom: Carol Customer <carol@customer.example>\nDate: ", text);
        Assert.Contains("\nSubject: Broken pump\nTo: support@acme.test\nCc: \"Ann\" <ann@customer.example>\n\nThe pump leaks, photo and invoice attached.", text);
        var sent = forward.Message.Attachments.OfType<MimePart>().ToDictionary(p => p.FileName!, Sha256);
        Assert.Equal(new Dictionary<string, string> { ["pump.jpg"] = Hash(photo), ["invoice.pdf"] = Hash(invoice) }, sent);

        // The thread shows the forward, who wrote it and to whom; the supplier is a third party of the ticket.
        var ticket = await api.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{ticketId}");
        var shown = ticket.GetProperty("messages").EnumerateArray().Single(m => m.GetProperty("id").GetInt64() == forwardId);
        Assert.Equal(["Forward"], shown.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));
        Assert.Contains(Supplier, shown.GetProperty("to").GetString());
        Assert.Equal(2, shown.GetProperty("attachments").GetArrayLength());
        Assert.Contains((Supplier, "ThirdParty"), Participants(ticket));

        // The supplier answers from his own client: In-Reply-To the forward, no Cc of the customer.
        var answer = Mail("Parts Desk", Supplier, forward.Message.Subject!, "answer@supplier.example");
        answer.InReplyTo = forward.Message.MessageId;
        await _inbound.SendAsync(answer, address.TechnicalAddress);
        Assert.Equal(ticketId, await TicketOfAsync("answer@supplier.example"));
        ticket = await api.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{ticketId}");
        Assert.Equal(["Customer", null, "ThirdParty"], ticket.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("fromRole").GetString()));

        // The next reply goes to the customer's side only, though the supplier wrote last.
        var reply = await api.PostAsJsonAsync($"/api/v1/tickets/{ticketId}/replies", new { text = "A new pump is on its way." });
        Assert.Equal(HttpStatusCode.Accepted, reply.StatusCode);
        var toCustomer = (await _relay.WaitForAsync(2))[1];
        Assert.Equal([Carol], toCustomer.Message.To.Mailboxes.Select(m => m.Address));
        Assert.Equal([Ann], toCustomer.Message.Cc.Mailboxes.Select(m => m.Address));
        Assert.Equal([Ann, Carol], toCustomer.EnvelopeTo.Order());
        Assert.Equal("pump@customer.example", toCustomer.Message.InReplyTo);
    }

    [Fact]
    public async Task The_whole_ticket_is_forwarded_message_by_message_in_order_without_notes_under_the_note()
    {
        var address = await MailSeed.AddressAsync(App, "support@acme.test", DomainStatus.Verified);
        var api = App.CreateApiClient();
        await _inbound.SendAsync(Mail("Carol", Carol, "Heating", "heat-1@customer.example", "First: the heating is off."), address.TechnicalAddress);
        var ticketId = await TicketOfAsync("heat-1@customer.example");
        (await api.PostAsJsonAsync($"/api/v1/tickets/{ticketId}/replies", new { text = "Is the boiler on?" })).EnsureSuccessStatusCode();
        await _relay.WaitForAsync(1);
        var second = Mail("Carol", Carol, $"Re: Heating [#{ticketId}]", "heat-2@customer.example", "Second: yes, it is on.");
        await _inbound.SendAsync(second, address.TechnicalAddress);
        Assert.Equal(ticketId, await TicketOfAsync("heat-2@customer.example"));
        await using (var scope = App.Services.CreateAsyncScope())
        {
            var admin = await scope.ServiceProvider.GetRequiredService<AppDbContext>().Users.Select(u => u.Id).FirstAsync();
            await scope.ServiceProvider.GetRequiredService<TicketCommands>().AddNoteAsync(ticketId, "Internal: customer is VIP", admin);
        }

        var response = await api.PostAsJsonAsync($"/api/v1/tickets/{ticketId}/forward", new { to = new[] { Supplier }, text = "Whole story below." });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var text = (await _relay.WaitForAsync(2))[1].Message.TextBody!.ReplaceLineEndings("\n");
        Assert.StartsWith("Whole story below.", text);
        var parts = text.Split(ForwardedText.Separator);
        Assert.Equal(4, parts.Length);
        Assert.Contains("First: the heating is off.", parts[1]);
        Assert.Contains("Is the boiler on?", parts[2]);
        Assert.Contains("Second: yes, it is on.", parts[3]);
        Assert.DoesNotContain("VIP", text);
    }

    [Fact]
    public async Task Bad_forwards_are_refused_in_words_and_nothing_is_queued()
    {
        var address = await MailSeed.AddressAsync(App, "support@acme.test", DomainStatus.Verified);
        var (ticket, _) = await MailSeed.TicketAsync(App, address);
        var (other, otherMessage) = await MailSeed.TicketAsync(App, address, subject: "Another question");
        var api = App.CreateApiClient();

        async Task<string> RefusedAsync(long id, object body, HttpStatusCode expected = HttpStatusCode.BadRequest)
        {
            var response = await api.PostAsJsonAsync($"/api/v1/tickets/{id}/forward", body);
            Assert.Equal(expected, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("title").GetString()!;
        }

        Assert.Contains("\"not an address\" is not a usable address", await RefusedAsync(ticket.Id, new { to = "not an address" }));
        Assert.Contains("support@acme.test is one of this helpdesk's own addresses", await RefusedAsync(ticket.Id, new { to = "support@acme.test" }));
        Assert.Contains("needs an address in To", await RefusedAsync(ticket.Id, new { text = "no one" }));
        Assert.Equal($"Message {otherMessage.Id} is not in ticket #{ticket.Id}.",
            await RefusedAsync(ticket.Id, new { to = Supplier, messageIds = new[] { otherMessage.Id } }));
        Assert.Contains("takes an address as a string", await RefusedAsync(ticket.Id, new { to = 42 }));
        Assert.Equal($"There is no ticket #{other.Id + 100}.", await RefusedAsync(other.Id + 100, new { to = Supplier }, HttpStatusCode.NotFound));
        await using var db = App.Database.OpenContext();
        Assert.Equal(0, await db.Outbox.CountAsync());
    }

    private static MimeMessage Mail(string name, string from, string subject, string messageId, string text = "Hello") => new()
    {
        From = { new MailboxAddress(name, from) },
        To = { MailboxAddress.Parse("support@acme.test") },
        Subject = subject,
        MessageId = messageId,
        Body = new TextPart("plain") { Text = text },
    };

    private async Task<long> TicketOfAsync(string messageId)
    {
        await using var db = App.Database.OpenContext();
        return await db.Messages.Where(m => m.MessageIdHeader == messageId).Select(m => m.TicketId).SingleAsync();
    }

    private static string Hash(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static string Sha256(MimePart part)
    {
        using var decoded = new MemoryStream();
        part.Content!.DecodeTo(decoded);
        return Hash(decoded.ToArray());
    }

    private static List<(string Email, string Role)> Participants(JsonElement ticket) =>
        ticket.GetProperty("participants").EnumerateArray().Select(p => (p.GetProperty("email").GetString()!, p.GetProperty("role").GetString()!)).ToList();
}
