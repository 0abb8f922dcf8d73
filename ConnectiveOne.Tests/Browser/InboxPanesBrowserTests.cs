using System.Net.Http.Json;
using System.Text.Json;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.TestSupport;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using MimeKit;

namespace ConnectiveOne.Tests.Browser;

/// <summary>
/// The inbox as panes (issue #15, "Layout", "Rows", "Consistency"): the list and the conversation scroll on their own,
/// the list keeps its place and selection while mail arrives over SMTP, rows show what the operator needs, a phone goes
/// list → conversation → back with the composer in view, nothing scrolls sideways, and a dropped connection says so.
/// </summary>
[Collection(BrowserCollection.Name)]
[Trait("Database", "Sqlite")] // how the page is laid out and operated, not the provider: the API and query tests cover both databases
public sealed class InboxPanesBrowserTests(ChromiumFixture chromium) : IAsyncLifetime
{
    private readonly InboundApp _inbound = new(new Dictionary<string, string?> { ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain });
    private TestApp App => _inbound.App;

    public Task InitializeAsync()
    {
        App.StartKestrel();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _inbound.DisposeAsync();

    private static MimeMessage Mail(string subject, string text, string from = "carla@customer.test", string? name = "Carla Customer",
        string? messageId = null)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress(name, from));
        message.To.Add(MailboxAddress.Parse("support@acme.test"));
        message.Subject = subject;
        message.MessageId = messageId ?? $"{Guid.NewGuid():N}@customer.test";
        message.Body = new TextPart("plain") { Text = text };
        return message;
    }

    /// <summary>Sends each mail over one real SMTP session to the app's listener.</summary>
    private async Task SendAllAsync(string technical, IEnumerable<MimeMessage> mails)
    {
        using var client = new SmtpClient();
        var endpoint = await _inbound.SmtpEndpointAsync();
        await client.ConnectAsync(endpoint.Address.ToString(), endpoint.Port, SecureSocketOptions.None);
        foreach (var mail in mails)
            await client.SendAsync(mail, MailboxAddress.Parse("sender@example.org"), [MailboxAddress.Parse(technical)]);
        await client.DisconnectAsync(true);
    }

    private static readonly string[] Customers = ["Dana Whitfield", "Emil Sørensen", "Fatima Haddad", "George Okafor", "Hana Kobayashi", "Ivan Petrov"];

    private static IEnumerable<MimeMessage> Tickets(string prefix, int count) => Enumerable.Range(1, count).Select(i =>
        Mail($"{prefix} {i:00}: question about order {20900 + i}", $"Hello,\nmy order {20900 + i} has not arrived yet. Can you check?\nThanks",
            $"customer{prefix.ToLowerInvariant()}{i}@example.org", Customers[i % Customers.Length]));

    private static Task<double> TopInListAsync(ILocator row) =>
        row.EvaluateAsync<double>("el => el.getBoundingClientRect().top - el.closest('[data-testid=ticket-list]').getBoundingClientRect().top");

    // The page itself never scrolls: the panes do.
    private static async Task AssertPageDoesNotScrollAsync(BrowserPage browser, string what)
    {
        var extra = await browser.Page.EvaluateAsync<int>("document.documentElement.scrollHeight - window.innerHeight");
        Assert.True(extra <= 0, $"The {what} page is {extra}px taller than the window: the page scrolls instead of its panes.");
    }

    [Fact]
    public async Task The_list_and_the_conversation_scroll_on_their_own_and_the_list_keeps_its_place_while_twenty_mails_arrive()
    {
        var technical = await MailSeed.AddressServedByBotAsync(App);
        await SendAllAsync(technical, Tickets("Old", 40));

        await using var op = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress, 1366, 768);
        await op.RunAsync(async () =>
        {
            await op.SignInAsync(TestApp.AdminEmail, TestApp.AdminPassword, "/inbox");
            var rows = op.Page.GetByTestId("ticket-row");
            await Assertions.Expect(rows).ToHaveCountAsync(40);
            await AssertPageDoesNotScrollAsync(op, "inbox");

            // Scroll the list to the middle and open a ticket there: the list stays where it was, the page does not move.
            var chosen = rows.Filter(new() { HasText = "Old 20:" });
            await chosen.EvaluateAsync("el => el.scrollIntoView({ block: 'center' })");
            var listScroll = await op.Page.GetByTestId("ticket-list").EvaluateAsync<double>("el => el.scrollTop");
            Assert.True(listScroll > 100, $"The list did not scroll on its own (scrollTop {listScroll}).");
            await chosen.ClickAsync();
            await Assertions.Expect(op.Page.GetByTestId("ticket-view")).ToContainTextAsync("Old 20:");
            await Assertions.Expect(chosen).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("c1-selected"));
            await AssertPageDoesNotScrollAsync(op, "ticket");
            Assert.Equal(0, await op.Page.EvaluateAsync<double>("window.scrollY"));

            // Scrolling the conversation leaves the list alone, and the other way round.
            var listBefore = await op.Page.GetByTestId("ticket-list").EvaluateAsync<double>("el => el.scrollTop");
            var threadScroll = await op.Page.GetByTestId("ticket-scroll").EvaluateAsync<double>("el => { el.scrollTop = 0; return el.scrollTop; }");
            Assert.Equal(listBefore, await op.Page.GetByTestId("ticket-list").EvaluateAsync<double>("el => el.scrollTop"));
            await op.Page.GetByTestId("ticket-list").EvaluateAsync("el => el.scrollTop += 40");
            Assert.Equal(threadScroll, await op.Page.GetByTestId("ticket-scroll").EvaluateAsync<double>("el => el.scrollTop"));
            await chosen.EvaluateAsync("el => el.scrollIntoView({ block: 'center' })");
            var topBefore = await TopInListAsync(chosen);

            // Twenty new tickets arrive over SMTP: they go in above, and the chosen row stays put on screen and selected.
            await SendAllAsync(technical, Tickets("New", 20));
            await Assertions.Expect(rows.First).ToContainTextAsync("New 20:");
            await Assertions.Expect(rows).ToHaveCountAsync(InboxStatePageSize);
            await Assertions.Expect(chosen).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("c1-selected"));
            var topAfter = await TopInListAsync(chosen);
            Assert.InRange(topAfter - topBefore, -4, 4);
            await Assertions.Expect(op.Page.GetByTestId("ticket-view")).ToContainTextAsync("Old 20:");
            await AssertPageDoesNotScrollAsync(op, "inbox after new mail");
        });
    }

    private const int InboxStatePageSize = ConnectiveOne.Console.State.Inbox.InboxState.PageSize;

    [Fact]
    public async Task Rows_show_sender_preview_attachment_who_answered_last_bot_and_assignee()
    {
        var technical = await MailSeed.AddressServedByBotAsync(App);
        var withFile = Mail("Broken hinge on cabinet", "");
        var body = new BodyBuilder { TextBody = "The hinge broke after two days.\n\nOn Mon, Support wrote:\n> Thanks for your order" };
        body.Attachments.Add("hinge.jpg", new byte[2_000], new ContentType("image", "jpeg"));
        withFile.Body = body.ToMessageBody();
        await SendAllAsync(technical, [withFile, Mail("Where is my refund", "I returned the parcel a week ago.", "no-name@example.org", name: null)]);

        var items = (await App.CreateApiClient().GetFromJsonAsync<JsonElement>("/api/v1/tickets")).GetProperty("items").EnumerateArray().ToList();
        var refund = items.Single(t => t.GetProperty("subject").GetString() == "Where is my refund").GetProperty("id").GetInt64();
        string adminId;
        await using (var scope = App.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            adminId = (await db.Users.SingleAsync(u => u.Email == TestApp.AdminEmail)).Id;
            Assert.Null((await scope.ServiceProvider.GetRequiredService<TicketCommands>().UpdateAsync(refund, null, adminId)).Error);
        }
        var reply = await MailSeed.ReplyWithAsync(App, refund, "We sent the refund today; it shows in 3 days.", []);
        Assert.Null(reply.Error);

        await using var op = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress, 1366, 768);
        await op.RunAsync(async () =>
        {
            await op.SignInAsync(TestApp.AdminEmail, TestApp.AdminPassword, "/inbox");
            var hinge = op.Page.GetByTestId("ticket-row").Filter(new() { HasText = "Broken hinge" });
            var refundRow = op.Page.GetByTestId("ticket-row").Filter(new() { HasText = "Where is my refund" });

            // The customer wrote last, with a file; the preview is the new words only, not the quoted history.
            await Assertions.Expect(hinge.GetByTestId("row-sender")).ToHaveTextAsync("Carla Customer");
            await Assertions.Expect(hinge.GetByTestId("row-preview")).ToHaveTextAsync("The hinge broke after two days.");
            await Assertions.Expect(hinge.GetByTestId("row-attachment")).ToHaveCountAsync(1);
            await Assertions.Expect(hinge.GetByTestId("row-last")).ToHaveAttributeAsync("data-last", "customer");
            await Assertions.Expect(hinge.GetByTestId("row-bot")).ToHaveTextAsync("Support");
            await Assertions.Expect(hinge.GetByTestId("row-assignee")).ToHaveCountAsync(0);
            await Assertions.Expect(hinge.GetByTestId("row-time")).ToHaveTextAsync("now");
            await Assertions.Expect(hinge.GetByTestId("row-time")).ToHaveAttributeAsync("title", new System.Text.RegularExpressions.Regex(@"\d{4}, \d{2}:\d{2}$"));
            await Assertions.Expect(hinge).ToHaveAttributeAsync("title", "Broken hinge on cabinet");

            // We answered last: the reply is the preview; the sender without a name shows as the address; assigned to me.
            await Assertions.Expect(refundRow.GetByTestId("row-sender")).ToHaveTextAsync("no-name@example.org");
            await Assertions.Expect(refundRow.GetByTestId("row-preview")).ToHaveTextAsync("We sent the refund today; it shows in 3 days.");
            await Assertions.Expect(refundRow.GetByTestId("row-last")).ToHaveAttributeAsync("data-last", "us");
            await Assertions.Expect(refundRow.GetByTestId("row-attachment")).ToHaveCountAsync(0);
            await Assertions.Expect(refundRow.GetByTestId("row-assignee")).ToHaveAttributeAsync("title", "Assigned to you");

            // Compact rows: one line each, and the choice survives a reload (localStorage).
            var twoLines = await hinge.EvaluateAsync<double>("el => el.getBoundingClientRect().height");
            await op.Page.GetByTestId("density").ClickAsync();
            await Assertions.Expect(op.Page.Locator(".c1-inbox")).ToHaveAttributeAsync("data-density", "compact");
            var oneLine = await hinge.EvaluateAsync<double>("el => el.getBoundingClientRect().height");
            Assert.True(oneLine < twoLines * 0.75, $"A compact row is {oneLine}px high, a comfortable one {twoLines}px.");
            await op.Page.ReloadAsync();
            await op.WaitInteractiveAsync();
            await Assertions.Expect(op.Page.Locator(".c1-inbox")).ToHaveAttributeAsync("data-density", "compact");
        });
    }

    [Fact]
    public async Task On_a_phone_the_list_opens_a_conversation_with_the_composer_in_view_and_goes_back()
    {
        var technical = await MailSeed.AddressServedByBotAsync(App);
        await SendAllAsync(technical, Tickets("Phone", 8));
        // A long thread: the same sender and subject thread into one ticket.
        await SendAllAsync(technical, Enumerable.Range(1, 12).Select(i =>
            Mail("Label printer prints blank pages", $"Message {i}: still blank pages after trying {i} new label rolls.\nJonas", "jonas@example.org", "Jonas Berg")));

        await using var op = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress, 390, 844);
        await op.RunAsync(async () =>
        {
            await op.SignInAsync(TestApp.AdminEmail, TestApp.AdminPassword, "/inbox");
            var rows = op.Page.GetByTestId("ticket-row");
            await Assertions.Expect(rows).ToHaveCountAsync(9);
            await op.AssertFitsWindowAsync("inbox on a phone");
            await AssertPageDoesNotScrollAsync(op, "inbox on a phone");

            await rows.Filter(new() { HasText = "Label printer" }).ClickAsync();
            await Assertions.Expect(op.Page.GetByTestId("message")).ToHaveCountAsync(12);
            await Assertions.Expect(op.Page.GetByTestId("ticket-list")).ToBeHiddenAsync();
            await op.AssertFitsWindowAsync("ticket on a phone");
            await AssertPageDoesNotScrollAsync(op, "ticket on a phone");

            // The composer is on screen without scrolling the thread, which opened at its last message.
            var text = op.Page.GetByTestId("reply-text");
            var box = await text.BoundingBoxAsync() ?? throw new InvalidOperationException("The reply box has no box.");
            Assert.True(box.Y >= 0 && box.Y + box.Height <= 844, $"The reply box is at {box.Y}..{box.Y + box.Height}, outside the 844px screen.");
            var send = await op.Page.GetByTestId("send-reply").BoundingBoxAsync() ?? throw new InvalidOperationException("No send button box.");
            Assert.True(send.Y + send.Height <= 844, $"The send button ends at {send.Y + send.Height}, below the screen.");
            var last = await op.Page.GetByTestId("message").Last.BoundingBoxAsync() ?? throw new InvalidOperationException("No message box.");
            var thread = await op.Page.GetByTestId("ticket-scroll").BoundingBoxAsync() ?? throw new InvalidOperationException("No thread box.");
            Assert.True(last.Y + last.Height <= thread.Y + thread.Height + 2, "The thread did not open at its last message.");
            await text.FillAsync("Could you send a photo of the label roll?");
            await op.AssertFitsWindowAsync("ticket with a draft on a phone");

            await op.Page.GetByLabel("Back to the list").ClickAsync();
            await Assertions.Expect(op.Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/inbox$"));
            await Assertions.Expect(rows).ToHaveCountAsync(9);
            await Assertions.Expect(op.Page.GetByTestId("ticket-view")).ToHaveCountAsync(0);
            await op.AssertFitsWindowAsync("inbox on a phone after going back");
        });
    }

    [Fact]
    public async Task A_dropped_connection_shows_the_apps_own_overlay_saying_what_happened()
    {
        var app = new TestApp().StartKestrel();
        var stopped = false;
        await using var op = await BrowserPage.OpenAsync(chromium.Browser, app.ServerAddress, 1366, 768);
        try
        {
            await op.RunAsync(async () =>
            {
                await op.SignInAsync(TestApp.AdminEmail, TestApp.AdminPassword, "/inbox");
                await op.WaitInteractiveAsync();
                var overlay = op.Page.GetByTestId("reconnect");
                await Assertions.Expect(overlay).ToBeHiddenAsync();

                stopped = true;
                await app.DisposeAsync(); // the server goes away under the open page
                await Assertions.Expect(overlay).ToBeVisibleAsync();
                await Assertions.Expect(overlay.GetByRole(AriaRole.Heading)).ToHaveTextAsync("Connection lost");
                await Assertions.Expect(overlay).ToContainTextAsync("The connection to the server dropped");
                await Assertions.Expect(overlay).ToContainTextAsync("reconnect");
                await op.ScreenshotAsync("reconnect-overlay-light-1366");
            });
        }
        finally
        {
            if (!stopped)
                await app.DisposeAsync();
        }
    }

    /// <summary>The screenshots of issue #15: a busy inbox (50 tickets) and a ticket with a long thread, in the themes <see cref="Screens"/> picks.</summary>
    [Fact]
    public async Task A_busy_inbox_and_a_long_thread_fit_every_screen()
    {
        var technical = await MailSeed.AddressServedByBotAsync(App);
        await SendAllAsync(technical, Tickets("Busy", 49));
        await SendAllAsync(technical, Enumerable.Range(1, 24).Select(i => Mail("Label printer prints blank pages",
            $"Message {i}: the label printer still prints blank pages. I tried roll number {i} and cleaned the sensor.\n\nJonas",
            "jonas@example.org", "Jonas Berg")));
        var items = (await App.CreateApiClient().GetFromJsonAsync<JsonElement>("/api/v1/tickets?pageSize=50")).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(50, items.Count);
        var thread = items.Single(t => t.GetProperty("subject").GetString() == "Label printer prints blank pages").GetProperty("id").GetInt64();
        Assert.Null((await MailSeed.ReplyWithAsync(App, thread, "Hi Jonas, thanks. Could you send a photo of the sensor?", [])).Error);

        foreach (var (width, height, theme) in Screens.Of((1366, 768), (1920, 1080), (390, 844)))
        {
            await using var op = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress, width, height, theme);
            var suffix = $"{theme}-{width}";
            await op.RunAsync(async () =>
            {
                await op.SignInAsync(TestApp.AdminEmail, TestApp.AdminPassword, "/inbox");
                await Assertions.Expect(op.Page.GetByTestId("ticket-row")).ToHaveCountAsync(50);
                await op.AssertFitsWindowAsync($"busy inbox at {width}px");
                await AssertPageDoesNotScrollAsync(op, $"busy inbox at {width}px");
                await op.ScreenshotAsync($"panes-inbox-busy-{suffix}");

                await op.Page.GetByTestId("ticket-row").Filter(new() { HasText = "Label printer" }).ClickAsync();
                await Assertions.Expect(op.Page.GetByTestId("message")).ToHaveCountAsync(25);
                await op.AssertFitsWindowAsync($"long thread at {width}px");
                await AssertPageDoesNotScrollAsync(op, $"long thread at {width}px");
                await op.ScreenshotAsync($"panes-ticket-long-{suffix}");
            });
        }
    }
}
