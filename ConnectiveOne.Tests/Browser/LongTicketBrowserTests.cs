using System.Net.Http.Json;
using System.Text.Json;
using ConnectiveOne.Tests.TestSupport;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Playwright;
using MimeKit;

namespace ConnectiveOne.Tests.Browser;

/// <summary>
/// A ticket with more messages than one page (issue #12, bounded tickets) in Chromium: it opens on its last messages,
/// loads older ones by the button and by scrolling up, keeps the reader's place, and appends new mail live.
/// </summary>
[Collection(BrowserCollection.Name)]
[Trait("Database", "Sqlite")] // what the page shows and how it is operated, not the provider: API and integration tests cover both databases
public sealed class LongTicketBrowserTests(ChromiumFixture chromium) : IAsyncLifetime
{
    private const int Seeded = 120;
    private const int Cap = 150;
    private readonly InboundApp _inbound = new(new Dictionary<string, string?>
    {
        ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain,
        ["ConnectiveOne:Tickets:MaxMessagesPerTicket"] = Cap.ToString(System.Globalization.CultureInfo.InvariantCulture),
    });
    private TestApp App => _inbound.App;

    public Task InitializeAsync()
    {
        App.StartKestrel();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _inbound.DisposeAsync();

    // Same sender and subject: threading (sender + subject) puts every one into one ticket.
    private static MimeMessage Mail(int n)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Carla Customer", "carla@customer.test"));
        message.To.Add(MailboxAddress.Parse("support@acme.test"));
        message.Subject = "Order 20931 status";
        message.MessageId = $"long-{n}-{Guid.NewGuid():N}@customer.test";
        message.Body = new TextPart("plain") { Text = $"Body {n:000}" };
        return message;
    }

    private static string Text(int n) => $"Body {n:000}";

    private async Task SendAllAsync(string technical, int from, int to)
    {
        using var client = new SmtpClient();
        var endpoint = await _inbound.SmtpEndpointAsync();
        await client.ConnectAsync(endpoint.Address.ToString(), endpoint.Port, SecureSocketOptions.None);
        for (var n = from; n <= to; n++)
            await client.SendAsync(Mail(n), MailboxAddress.Parse("sender@example.org"), [MailboxAddress.Parse(technical)]);
        await client.DisconnectAsync(true);
    }

    [Fact]
    public async Task A_ticket_at_the_cap_and_its_continuation_link_to_each_other()
    {
        var technical = await MailSeed.AddressServedByBotAsync(App);
        await SendAllAsync(technical, 1, Cap + 1);
        var items = (await App.CreateApiClient().GetFromJsonAsync<JsonElement>("/api/v1/tickets")).GetProperty("items");
        var ids = items.EnumerateArray().Select(t => t.GetProperty("id").GetInt64()).Order().ToList();
        Assert.Equal(2, ids.Count);

        await using var op = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress);
        await op.RunAsync(async () =>
        {
            await op.SignInAsync(TestApp.AdminEmail, TestApp.AdminPassword, $"/inbox/{ids[0]}");
            await Assertions.Expect(op.Page.GetByTestId("continued-by")).ToContainTextAsync($"#{ids[1]}");
            await op.ScreenshotAsync("ticket-full-continued-1366");
            await op.Page.GetByTestId("continued-by").GetByRole(AriaRole.Link).ClickAsync();
            await Assertions.Expect(op.Page.GetByTestId("ticket-view")).ToHaveAttributeAsync("data-ticket", ids[1].ToString());
            await Assertions.Expect(op.Page.GetByTestId("continues")).ToContainTextAsync($"#{ids[0]}");
            await Assertions.Expect(op.Page.GetByTestId("message")).ToHaveCountAsync(1);
        });
    }

    [Fact]
    public async Task A_long_ticket_opens_on_its_last_messages_loads_older_ones_and_appends_new_mail_in_place()
    {
        var technical = await MailSeed.AddressServedByBotAsync(App);
        await SendAllAsync(technical, 1, Seeded);
        var list = await App.CreateApiClient().GetFromJsonAsync<JsonElement>("/api/v1/tickets");
        var ticket = Assert.Single(list.GetProperty("items").EnumerateArray());
        Assert.Equal(Seeded, ticket.GetProperty("messageCount").GetInt32());
        var id = ticket.GetProperty("id").GetInt64();

        await using var op = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress);
        await op.RunAsync(async () =>
        {
            await op.SignInAsync(TestApp.AdminEmail, TestApp.AdminPassword, $"/inbox/{id}");
            var messages = op.Page.GetByTestId("message");
            var older = op.Page.GetByTestId("show-older");

            // Opens on the last page (50) only.
            await Assertions.Expect(messages).ToHaveCountAsync(50);
            await Assertions.Expect(messages.First).ToContainTextAsync(Text(Seeded - 49));
            await Assertions.Expect(messages.Last).ToContainTextAsync(Text(Seeded));
            await Assertions.Expect(older).ToContainTextAsync("70 more");
            await op.ScreenshotAsync("ticket-long-last-page-1366");

            // Mark the DOM node of the top message: a thread reload would replace or drop it.
            var kept = messages.First;
            await kept.EvaluateAsync("el => { el.dataset.kept = 'yes'; el.scrollIntoView({ block: 'center' }); }");
            var topBefore = await kept.EvaluateAsync<double>("el => el.getBoundingClientRect().top");

            // The button (clicked in the page, so Playwright does not scroll to it) loads the 50 before, and the
            // message that was on screen stays where it was.
            await older.EvaluateAsync("el => el.click()");
            await Assertions.Expect(messages).ToHaveCountAsync(100);
            await Assertions.Expect(messages.First).ToContainTextAsync(Text(Seeded - 99));
            var marked = op.Page.Locator("[data-testid='message'][data-kept='yes']");
            await Assertions.Expect(marked).ToContainTextAsync(Text(Seeded - 49));
            var topAfter = await marked.EvaluateAsync<double>("el => el.getBoundingClientRect().top");
            Assert.InRange(topAfter - topBefore, -4, 4);

            // Scrolling up to the top loads the rest; then there is nothing older to show.
            await op.Page.GetByTestId("ticket-scroll").EvaluateAsync("el => el.scrollTo(0, 0)"); // the conversation scrolls, not the page
            await Assertions.Expect(messages).ToHaveCountAsync(Seeded);
            await Assertions.Expect(messages.First).ToContainTextAsync(Text(1));
            await Assertions.Expect(older).ToHaveCountAsync(0);

            // New mail arrives: appended to the 120 already shown (a reload would show the last 50 again), in the same DOM.
            await _inbound.SendAsync(Mail(Seeded + 1), technical);
            await Assertions.Expect(messages).ToHaveCountAsync(Seeded + 1);
            await Assertions.Expect(messages.Last).ToContainTextAsync(Text(Seeded + 1));
            await Assertions.Expect(messages.First).ToContainTextAsync(Text(1));
            await Assertions.Expect(marked).ToHaveCountAsync(1);
            await Assertions.Expect(op.Page.GetByTestId("ticket-view")).ToContainTextAsync($"{Seeded + 1} messages");
        });
    }
}
