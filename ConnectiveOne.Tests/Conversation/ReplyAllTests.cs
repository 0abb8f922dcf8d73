using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.Dns;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using MimeKit;
using MimeKit.Cryptography;

namespace ConnectiveOne.Tests.Conversation;

/// <summary>
/// Issue #14, participants and reply-all, end to end: mail goes in through the real SMTP listener, replies go out
/// through the outbox to a real capture relay, and the relay's copies are what is checked.
/// </summary>
[RunsLong(30)]
public sealed class ReplyAllTests : IAsyncLifetime
{
    private const string Carol = "carol@customer.example";
    private const string Ann = "ann@partner.example";
    private const string Bob = "bob@customer.example";

    private CaptureRelay _relay = null!;
    private FakeDnsServer _dns = null!;
    private InboundApp _inbound = null!;
    private TestApp App => _inbound.App;

    public async Task InitializeAsync()
    {
        _relay = await CaptureRelay.StartAsync();
        // The public key of MailSeed's DKIM key as a DNS panel publishes it (strings of at most 255 bytes).
        _dns = FakeDnsServer.Start();
        _dns.SetTxt("k1._domainkey.acme.test", TestKeys.K1.TxtValue.Chunk(255).Select(c => new string(c)).ToArray());
        _inbound = ConversationApp.Start(_relay);
    }

    public async Task DisposeAsync()
    {
        await _inbound.DisposeAsync();
        await _relay.DisposeAsync();
        await _dns.DisposeAsync();
    }

    [Fact]
    public async Task A_three_person_thread_keeps_all_three_on_every_reply_and_Bcc_stays_out_of_the_headers()
    {
        var address = await MailSeed.AddressAsync(App, "support@acme.test", DomainStatus.Verified);
        var api = App.CreateApiClient();

        // Carol writes, copying Ann and Bob (and a no-reply robot, which is nobody to answer).
        var first = Mail("Carol Customer", Carol, "Printer on fire", "first@customer.example");
        first.To.Add(new MailboxAddress("Acme Support", "support@acme.test"));
        first.Cc.Add(new MailboxAddress("Ann Partner", Ann));
        first.Cc.Add(new MailboxAddress("Bob", Bob));
        first.Cc.Add(MailboxAddress.Parse("noreply@tracker.example"));
        await _inbound.SendAsync(first, address.TechnicalAddress);
        var ticketId = await TicketOfAsync("first@customer.example");

        var ticket = await api.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{ticketId}");
        Assert.Equal([(Carol, "Customer", "Carol Customer"), (Ann, "Cc", "Ann Partner"), (Bob, "Cc", "Bob")], Participants(ticket));

        // Reply 1, defaults: To Carol, Cc Ann and Bob.
        await ReplyAsync(api, ticketId, new { text = "We are on it." });
        var reply1 = (await _relay.WaitForAsync(1))[0];
        Assert.Equal([Carol], Addresses(reply1.Message.To));
        Assert.Equal([Ann, Bob], Addresses(reply1.Message.Cc));
        Assert.Equal([Ann, Bob, Carol], reply1.EnvelopeTo.Order());

        // Bob answers from another client: no [#N] in the subject, only Carol copied, In-Reply-To Carol's first mail.
        var fromBob = Mail("Bob", Bob, "Re: Printer on fire", "bob-answer@customer.example");
        fromBob.To.Add(MailboxAddress.Parse("support@acme.test"));
        fromBob.Cc.Add(MailboxAddress.Parse(Carol));
        fromBob.InReplyTo = "first@customer.example";
        await _inbound.SendAsync(fromBob, address.TechnicalAddress);
        Assert.Equal(ticketId, await TicketOfAsync("bob-answer@customer.example"));

        // Reply 2 answers Bob: To Bob, Cc Carol and Ann, though Bob dropped Ann.
        await ReplyAsync(api, ticketId, new { text = "Thanks, Bob." });
        var reply2 = (await _relay.WaitForAsync(2))[1];
        Assert.Equal([Bob], Addresses(reply2.Message.To));
        Assert.Equal([Carol, Ann], Addresses(reply2.Message.Cc));

        // Reply 3 with a blind copy: the manager gets it through the envelope only.
        await ReplyAsync(api, ticketId, new { text = "Fixed.", bcc = new[] { "Boss <boss@elsewhere.example>" } });
        var reply3 = (await _relay.WaitForAsync(3))[2];
        Assert.Equal([Bob], Addresses(reply3.Message.To));
        Assert.Equal([Carol, Ann], Addresses(reply3.Message.Cc));
        Assert.Equal([Ann, Bob, "boss@elsewhere.example", Carol], reply3.EnvelopeTo.Order());
        Assert.False(reply3.Message.Headers.Contains(HeaderId.Bcc));
        Assert.DoesNotContain("boss@elsewhere.example", System.Text.Encoding.ASCII.GetString(reply3.Bytes), StringComparison.OrdinalIgnoreCase);

        // The blind copy did not become a participant; the thread shows who each reply went to.
        ticket = await api.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{ticketId}");
        Assert.Equal([Carol, Ann, Bob], Participants(ticket).Select(p => p.Email));
        var messages = ticket.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(["Customer", null, "Cc", null, null], messages.Select(m => m.GetProperty("fromRole").GetString()));
        Assert.Contains(Ann, messages[^1].GetProperty("cc").GetString());

        // Every copy the relay got carries a DKIM signature of acme.test that verifies against the published key.
        foreach (var copy in (CapturedMail[])[reply1, reply2, reply3])
        {
            var signature = copy.Message.Headers[copy.Message.Headers.IndexOf(HeaderId.DkimSignature)];
            Assert.Contains("d=acme.test", signature.Value);
            Assert.True(await new DkimVerifier(new DnsDkimKeyLocator(_dns.Port)).VerifyAsync(copy.Message, signature),
                $"The DKIM signature of \"{copy.Message.TextBody}\" does not verify against k1._domainkey.acme.test.");
        }
    }

    [Fact]
    public async Task Someone_only_copied_on_the_first_mail_can_write_into_the_ticket_with_its_number_in_the_subject()
    {
        var address = await MailSeed.AddressAsync(App, "support@acme.test", DomainStatus.Verified);
        var first = Mail("Carol", Carol, "Invoice question", "invoice@customer.example");
        first.To.Add(MailboxAddress.Parse("support@acme.test"));
        first.Cc.Add(MailboxAddress.Parse(Ann));
        await _inbound.SendAsync(first, address.TechnicalAddress);
        var ticketId = await TicketOfAsync("invoice@customer.example");

        // Ann never wrote before; a new mail of hers (no references) names the ticket in its subject.
        var fromAnn = Mail("Ann", Ann, $"Question about [#{ticketId}]", "ann-new@partner.example");
        fromAnn.To.Add(MailboxAddress.Parse("support@acme.test"));
        // And a stranger trying the same gets a ticket of his own.
        var stranger = Mail("Eve", "eve@elsewhere.example", $"Question about [#{ticketId}]", "eve@elsewhere.example");
        stranger.To.Add(MailboxAddress.Parse("support@acme.test"));
        await _inbound.SendAsync(fromAnn, address.TechnicalAddress);
        await _inbound.SendAsync(stranger, address.TechnicalAddress);

        Assert.Equal(ticketId, await TicketOfAsync("ann-new@partner.example"));
        Assert.NotEqual(ticketId, await TicketOfAsync("eve@elsewhere.example"));
    }

    [Fact]
    public async Task An_invalid_or_own_address_is_refused_with_a_title_that_names_it_and_nothing_is_queued()
    {
        var address = await MailSeed.AddressAsync(App, "support@acme.test", DomainStatus.Verified);
        var (ticket, _) = await MailSeed.TicketAsync(App, address);
        var api = App.CreateApiClient();

        var invalid = await api.PostAsJsonAsync($"/api/v1/tickets/{ticket.Id}/replies", new { text = "Hi", cc = new[] { "ann@partner.example", "not an address" } });
        var own = await api.PostAsJsonAsync($"/api/v1/tickets/{ticket.Id}/replies", new { text = "Hi", to = new[] { "support@acme.test" } });
        using var form = new MultipartFormDataContent { { new StringContent("Hi"), "text" }, { new StringContent("bob@@customer.example"), "bcc" } };
        var multipart = await api.PostAsync($"/api/v1/tickets/{ticket.Id}/replies", form);

        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("\"not an address\"", (await invalid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("title").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, own.StatusCode);
        Assert.Contains("support@acme.test", (await own.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("title").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, multipart.StatusCode);
        Assert.Contains("bob@@customer.example", (await multipart.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("title").GetString());
        await using var db = App.Database.OpenContext();
        Assert.Equal(0, await db.Outbox.CountAsync());
    }

    [Fact]
    public async Task Multipart_to_and_cc_fields_repeated_once_per_address_set_the_recipients()
    {
        var address = await MailSeed.AddressAsync(App, "support@acme.test", DomainStatus.Verified);
        var (ticket, _) = await MailSeed.TicketAsync(App, address);
        using var form = new MultipartFormDataContent
        {
            { new StringContent("Hello both"), "text" },
            { new StringContent("Dan <dan@customer.example>"), "to" },
            { new StringContent(Ann), "cc" },
            { new StringContent(Bob), "cc" },
        };

        var response = await App.CreateApiClient().PostAsync($"/api/v1/tickets/{ticket.Id}/replies", form);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var mail = (await _relay.WaitForAsync(1))[0];
        Assert.Equal(["dan@customer.example"], Addresses(mail.Message.To));
        Assert.Equal("Dan", mail.Message.To.Mailboxes.Single().Name);
        Assert.Equal([Ann, Bob], Addresses(mail.Message.Cc));
        // Whoever a reply went to takes part from now on (the customer stays the customer).
        var details = await App.CreateApiClient().GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{ticket.Id}");
        Assert.Equal([("carol@customer.example", "Customer"), (Ann, "Cc"), (Bob, "Cc"), ("dan@customer.example", "Cc")],
            Participants(details).Select(p => (p.Email, p.Role)));
    }

    [Fact]
    public async Task A_reply_comes_from_the_address_name_or_the_operator_from_it_with_the_signature_that_applies_and_shows_its_author()
    {
        var address = await MailSeed.AddressAsync(App, "support@acme.test", DomainStatus.Verified);
        var first = Mail("Carol", Carol, "Names", "names@customer.example");
        first.To.Add(MailboxAddress.Parse("support@acme.test"));
        await _inbound.SendAsync(first, address.TechnicalAddress);
        var ticketId = await TicketOfAsync("names@customer.example");
        var admin = App.CreateApiClient();
        var operatorApi = App.CreateApiClient(await App.CreateUserWithTokenAsync("ann@acme.test", "Operator"));

        // The operator names herself and signs; the admin names the address.
        var me = await operatorApi.PatchAsJsonAsync("/api/v1/users/me", new { displayName = "Ann Smith", signature = "Ann Smith\nSecond level" });
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        Assert.Equal("Ann Smith", (await operatorApi.GetFromJsonAsync<JsonElement>("/api/v1/users/me")).GetProperty("displayName").GetString());
        var named = await admin.PatchAsJsonAsync($"/api/v1/addresses/{address.Id}", new { displayName = "Acme Support" });
        Assert.Equal("Address", (await named.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("fromFormat").GetString());

        await ReplyAsync(operatorApi, ticketId, new { text = "First answer." });
        var plain = (await _relay.WaitForAsync(1))[0].Message;
        Assert.Equal("\"Acme Support\" <support@acme.test>", plain.From.ToString());
        Assert.EndsWith("First answer.\n\n-- \nAnn Smith\nSecond level", plain.TextBody!.ReplaceLineEndings("\n").TrimEnd());

        // Now "Ann from Acme Support", and the address's signature wins over hers, variables filled in.
        var changed = await admin.PatchAsJsonAsync($"/api/v1/addresses/{address.Id}",
            new { fromFormat = "OperatorFromAddress", signature = "{operator.firstName} ({operator.name}) for {address.name}" });
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        await ReplyAsync(operatorApi, ticketId, new { text = "Second answer." });
        var second = (await _relay.WaitForAsync(2))[1].Message;
        Assert.Equal("Ann Smith from Acme Support", second.From.Mailboxes.Single().Name);
        Assert.Equal("support@acme.test", second.From.Mailboxes.Single().Address);
        Assert.EndsWith("Second answer.\n\n-- \nAnn (Ann Smith) for Acme Support", second.TextBody!.ReplaceLineEndings("\n").TrimEnd());

        var invalid = await admin.PatchAsJsonAsync($"/api/v1/addresses/{address.Id}", new { fromFormat = "Nickname" });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("Address or OperatorFromAddress", (await invalid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("title").GetString());

        var messages = (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{ticketId}")).GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(JsonValueKind.Null, messages[0].GetProperty("author").ValueKind);
        Assert.Equal(["Ann Smith", "Ann Smith"], messages.Skip(1).Select(m => m.GetProperty("author").GetProperty("displayName").GetString()));
    }

    private static MimeMessage Mail(string name, string from, string subject, string messageId) => new()
    {
        From = { new MailboxAddress(name, from) },
        Subject = subject,
        MessageId = messageId,
        Body = new TextPart("plain") { Text = "Hello" },
    };

    private static async Task ReplyAsync(HttpClient api, long ticketId, object body)
    {
        var response = await api.PostAsJsonAsync($"/api/v1/tickets/{ticketId}/replies", body);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
    }

    private async Task<long> TicketOfAsync(string messageId)
    {
        await using var db = App.Database.OpenContext();
        return await db.Messages.Where(m => m.MessageIdHeader == messageId).Select(m => m.TicketId).SingleAsync();
    }

    private static List<string> Addresses(InternetAddressList list) => list.Mailboxes.Select(m => m.Address.ToLowerInvariant()).ToList();

    private static List<(string Email, string Role, string? Name)> Participants(JsonElement ticket) =>
        ticket.GetProperty("participants").EnumerateArray()
            .Select(p => (p.GetProperty("email").GetString()!, p.GetProperty("role").GetString()!, p.GetProperty("name").GetString())).ToList();
}
