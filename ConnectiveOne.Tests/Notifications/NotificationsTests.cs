using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ConnectiveOne.Core.Notifications;
using ConnectiveOne.Core.Outbound;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.Reliability;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;

namespace ConnectiveOne.Tests.Notifications;

/// <summary>
/// Notifications that concern one user, end to end: mail through the real SMTP listener, operators' actions through the
/// API and the Core commands, the user's list and read marks through the API, emails through the outbox to a capture relay.
/// </summary>
[RunsLong(20)]
public sealed class NotificationsTests : IAsyncLifetime
{
    private CaptureRelay _relay = null!;
    private InboundApp _inbound = null!;
    private TestApp App => _inbound.App;
    private string _technical = "";

    public sealed record Item(long Id, string Kind, long TicketId, string Text, DateTimeOffset CreatedAt, DateTimeOffset? ReadAt);

    public async Task InitializeAsync()
    {
        _relay = await CaptureRelay.StartAsync();
        _inbound = new InboundApp(new Dictionary<string, string?>(_relay.Settings)
        {
            ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain,
            ["ConnectiveOne:Outbound:PollInterval"] = "00:00:01",
        });
        _technical = await MailSeed.AddressServedByBotAsync(App);
    }

    public async Task DisposeAsync()
    {
        await _inbound.DisposeAsync();
        await _relay.DisposeAsync();
    }

    [Fact]
    public async Task Each_kind_reaches_the_user_it_concerns_links_its_ticket_is_read_through_the_API_and_never_comes_from_ones_own_action()
    {
        var ann = Client(await App.CreateUserWithTokenAsync("ann@example.test", "Operator"));
        var bob = Client(await App.CreateUserWithTokenAsync("bob@example.test", "Operator"));
        var annId = await UserIdAsync("ann@example.test");
        var bobId = await UserIdAsync("bob@example.test");

        // A new ticket in the bot: everyone follows every bot by default.
        await SendAsync(Customer("Printer on fire", "Help, please."));
        var created = await WaitForAsync(ann, items => items.Any(i => i.Kind == "newTicket"));
        var ticketId = created.Single().TicketId;
        Assert.Contains($"#{ticketId}", created.Single().Text);
        Assert.Contains(await ListAsync(bob), i => i.Kind == "newTicket" && i.TicketId == ticketId);

        // Assigning oneself tells nobody; Bob assigning Ann tells Ann, not Bob.
        (await ann.PatchAsJsonAsync($"/api/v1/tickets/{ticketId}", new { assigneeId = annId })).EnsureSuccessStatusCode();
        (await ann.PatchAsJsonAsync($"/api/v1/tickets/{ticketId}", new { assigneeId = "" })).EnsureSuccessStatusCode();
        (await bob.PatchAsJsonAsync($"/api/v1/tickets/{ticketId}", new { assigneeId = annId })).EnsureSuccessStatusCode();
        var assigned = Assert.Single(await ListAsync(ann), i => i.Kind == "assigned");
        Assert.Equal(ticketId, assigned.TicketId);
        Assert.Contains("bob@example.test assigned", assigned.Text);

        // The customer's answer on Ann's ticket: Ann only.
        await SendAsync(Customer("Re: Printer on fire", "It is still burning."));
        var answer = Assert.Single(await WaitForAsync(ann, items => items.Any(i => i.Kind == "customerReply")), i => i.Kind == "customerReply");
        Assert.Equal(ticketId, answer.TicketId);

        // Bob's note names Ann and himself: Ann is told, Bob is not.
        await using (var scope = App.Services.CreateAsyncScope())
        {
            var (_, error) = await scope.ServiceProvider.GetRequiredService<TicketCommands>()
                .AddNoteAsync(ticketId, "@ann@example.test can you look? cc @bob@example.test", bobId);
            Assert.Null(error);
        }
        var mention = Assert.Single(await ListAsync(ann), i => i.Kind == "mention");
        Assert.Equal(ticketId, mention.TicketId);
        Assert.Contains("bob@example.test mentioned you", mention.Text);

        // Ann's reply bounces: Ann is told.
        long reply;
        await using (var scope = App.Services.CreateAsyncScope())
            reply = (await scope.ServiceProvider.GetRequiredService<ReplyService>().QueueReplyAsync(ticketId, "Water helps.", [], annId)).MessageId!.Value;
        var accepted = (await _relay.WaitForAsync()).Single(m => m.EnvelopeTo.Contains("carol@customer.example"));
        await BounceAsync(accepted);
        var bounce = Assert.Single(await WaitForAsync(ann, items => items.Any(i => i.Kind == "bounce")), i => i.Kind == "bounce");
        Assert.Equal(ticketId, bounce.TicketId);
        Assert.Contains("bounced", bounce.Text);

        // Bob was told about the new ticket only: all the rest was Ann's, or his own doing.
        Assert.Equal(["newTicket"], (await ListAsync(bob)).Select(i => i.Kind));
        Assert.Equal(["bounce", "mention", "customerReply", "assigned", "newTicket"], (await ListAsync(ann)).Select(i => i.Kind));

        // Read marks: one, then (Bob cannot touch Ann's) all of them.
        var read = await ann.PostAsJsonAsync("/api/v1/notifications/read", new { ids = new[] { mention.Id } });
        Assert.Equal(1, (await read.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("updated").GetInt32());
        Assert.DoesNotContain(await ListAsync(ann, "?unread=true"), i => i.Id == mention.Id);
        Assert.Equal([mention.Id], (await ListAsync(ann, "?unread=false")).Select(i => i.Id));
        var foreign = await bob.PostAsJsonAsync("/api/v1/notifications/read", new { ids = new[] { answer.Id } });
        Assert.Equal(0, (await foreign.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("updated").GetInt32());
        (await ann.PostAsync("/api/v1/notifications/read", null)).EnsureSuccessStatusCode();
        Assert.Empty(await ListAsync(ann, "?unread=true"));
        Assert.All(await ListAsync(ann), i => Assert.NotNull(i.ReadAt));
        Assert.Single(await ListAsync(bob, "?unread=true"));

        var bad = await ann.GetAsync("/api/v1/notifications?unread=maybe");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("'unread' must be true or false", (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("title").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await App.CreateApiClient(token: null).GetAsync("/api/v1/notifications")).StatusCode);
    }

    [Fact]
    public async Task An_email_notification_reaches_the_users_own_address_once_From_the_helpdesk_and_never_for_automatic_mail_or_an_own_address()
    {
        var ann = Client(await App.CreateUserWithTokenAsync("ann@example.test", "Operator"));
        var annId = await UserIdAsync("ann@example.test");
        await using (var scope = App.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<NotificationCenter>().SaveSettingsAsync(annId, followAllBots: false, [],
                [NotificationKind.CustomerReply, NotificationKind.Bounce, NotificationKind.Mention]);
        // A user whose address is one of the helpdesk's own: the loop guards never let mail go there.
        await MailSeed.AddressAsync(App, "team@acme.test", Core.Dns.DomainStatus.Verified);
        await App.CreateUserWithTokenAsync("team@acme.test", "Operator");
        var teamId = await UserIdAsync("team@acme.test");
        await using (var scope = App.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<NotificationCenter>().SaveSettingsAsync(teamId, followAllBots: false, [],
                [NotificationKind.Mention]);

        await SendAsync(Customer("Printer on fire", "Help, please."));
        var ticketId = await WaitForTicketAsync();
        Assert.Empty(await ListAsync(ann)); // Ann follows no bot now
        (await App.CreateApiClient().PatchAsJsonAsync($"/api/v1/tickets/{ticketId}", new { assigneeId = annId })).EnsureSuccessStatusCode();

        // An auto-reply on Ann's ticket: in the bell, never by email.
        var auto = Customer("Re: Printer on fire", "I am out of the office.");
        auto.Headers.Add("Auto-Submitted", "auto-replied");
        await SendAsync(auto);
        var automatic = Assert.Single(await WaitForAsync(ann, items => items.Any(i => i.Kind == "customerReply")), i => i.Kind == "customerReply");
        // A person's answer, and a note naming the team's own address.
        await SendAsync(Customer("Re: Printer on fire", "Back at my desk: still burning."));
        await using (var scope = App.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<TicketCommands>().AddNoteAsync(ticketId, "@team@acme.test FYI", annId);

        var mail = Assert.Single(await _relay.WaitForAsync());
        Assert.Equal(["ann@example.test"], mail.EnvelopeTo);
        Assert.Equal("support@acme.test", mail.Message.From.Mailboxes.Single().Address);
        Assert.Equal("auto-generated", mail.Message.Headers["Auto-Submitted"]);
        Assert.Contains($"answered on #{ticketId}", mail.Message.Subject);
        Assert.Contains("Back at my desk: still burning.", mail.Message.TextBody);
        Assert.DoesNotContain("out of the office", mail.Message.TextBody);

        // Finished: no notification waits for its email any more (the team's was claimed and dropped); then nothing else went out.
        await MailSeed.WaitForAsync(App, async db => (int?)await db.Notifications.CountAsync(n => n.EmailPending), n => n == 0);
        await MailSeed.WaitForAsync(App, async db => (int?)await db.Notifications.CountAsync(n => n.UserId == teamId), n => n == 1);
        await using (var scope = App.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var notificationMail = await db.Outbox.AsNoTracking().Where(m => m.Kind == OutboundKind.Notification).ToListAsync();
            Assert.Equal(["ann@example.test"], notificationMail.Select(m => m.ToAddress));
        }
        Assert.Single(_relay.Received);
        Assert.Contains(automatic.Id, (await ListAsync(ann)).Select(i => i.Id));
    }

    private HttpClient Client(string token) => App.CreateApiClient(token);

    private static async Task<List<Item>> ListAsync(HttpClient client, string query = "") =>
        (await client.GetFromJsonAsync<List<Item>>("/api/v1/notifications" + query))!;

    private static async Task<List<Item>> WaitForAsync(HttpClient client, Func<List<Item>, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var items = await ListAsync(client);
            if (done(items))
                return items;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Notifications now: {string.Join(", ", items.Select(i => i.Kind))}");
            await Task.Delay(100);
        }
    }

    private async Task<long> WaitForTicketAsync() =>
        (await MailSeed.WaitForAsync(App, db => db.Tickets.AsNoTracking().FirstOrDefaultAsync(), t => true)).Id;

    private async Task<string> UserIdAsync(string email)
    {
        await using var scope = App.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<AppDbContext>().Users.AsNoTracking().SingleAsync(u => u.Email == email)).Id;
    }

    private static MimeMessage Customer(string subject, string text)
    {
        var message = new MimeMessage { Subject = subject, MessageId = $"{Guid.NewGuid():N}@customer.example" };
        message.From.Add(new MailboxAddress("Carol Customer", "carol@customer.example"));
        message.To.Add(new MailboxAddress(null, "support@acme.test"));
        message.Body = new TextPart("plain") { Text = text };
        return message;
    }

    private Task SendAsync(MimeMessage message) => _inbound.SendAsync(message, _technical);

    // The relay's later DSN for a reply it had accepted, with the headers it accepted (as BounceIntakeTests builds it).
    private async Task BounceAsync(CapturedMail accepted)
    {
        var text = System.Text.Encoding.UTF8.GetString(accepted.Bytes);
        var headers = text[..text.IndexOf("\r\n\r\n", StringComparison.Ordinal)];
        var dsn = $"From: MAILER-DAEMON@relay.example (Mail Delivery System)\r\nTo: {accepted.EnvelopeFrom}\r\nSubject: Undelivered Mail Returned to Sender\r\n" +
                  "Message-ID: <relay-dsn-1@relay.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n" +
                  "--b1\r\nContent-Type: text/plain\r\n\r\n<carol@customer.example>: host mx.customer.example said: 550 5.1.1 Recipient address rejected\r\n\r\n" +
                  "--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; relay.example\r\n\r\nFinal-Recipient: rfc822; carol@customer.example\r\n" +
                  "Action: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 <carol@customer.example>: Recipient address rejected\r\n\r\n" +
                  $"--b1\r\nContent-Type: text/rfc822-headers\r\n\r\n{headers}\r\n\r\n--b1--\r\n";
        // Sent to support@acme.test, it reaches us redirected to the technical address.
        Assert.StartsWith("250", await RawSmtp.SendAsync(await _inbound.SmtpEndpointAsync(), "", _technical, System.Text.Encoding.UTF8.GetBytes(dsn)));
    }
}
