using System.Net.Http.Json;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.Playwright;
using MimeKit;

namespace ConnectiveOne.Tests.Browser;

/// <summary>
/// Issue #14 in Chromium: the composer's To/Cc/Bcc chips start at the reply-all defaults and are changed by clicking and
/// typing; the reply reaches a capture relay with those recipients; the thread names who wrote each message.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ConversationBrowserTests(ChromiumFixture chromium) : IAsyncLifetime
{
    private CaptureRelay _relay = null!;
    private InboundApp _inbound = null!;
    private TestApp App => _inbound.App;

    public async Task InitializeAsync()
    {
        _relay = await CaptureRelay.StartAsync();
        _inbound = new InboundApp(new Dictionary<string, string?>(_relay.Settings) { ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain });
        App.StartKestrel();
    }

    public async Task DisposeAsync()
    {
        await _inbound.DisposeAsync();
        await _relay.DisposeAsync();
    }

    public static TheoryData<int, int, string> Screens => new()
    {
        { 1366, 768, "light" },
        { 1366, 768, "dark" },
        { 390, 844, "light" },
        { 390, 844, "dark" },
    };

    [Theory]
    [MemberData(nameof(Screens))]
    public async Task The_operator_edits_the_reply_all_chips_and_the_thread_names_each_author(int width, int height, string theme)
    {
        var technical = await MailSeed.AddressServedByBotAsync(App);
        var api = App.CreateApiClient();
        (await api.PatchAsJsonAsync("/api/v1/users/me", new { displayName = "Ada Admin", signature = "Ada Admin\nAcme field service" })).EnsureSuccessStatusCode();

        var first = Mail(new MailboxAddress("Carla Customer", "carla@customer.test"), "Printer jams", "jam@customer.test");
        first.Cc.Add(new MailboxAddress("Ann Partner", "ann@partner.test"));
        first.Cc.Add(MailboxAddress.Parse("bob@customer.test"));
        await _inbound.SendAsync(first, technical);
        // Bob (no display name) answers from his own client: no [#N], only In-Reply-To.
        var fromBob = Mail(MailboxAddress.Parse("bob@customer.test"), "Re: Printer jams", "bob@customer.test-1");
        fromBob.InReplyTo = "jam@customer.test";
        await _inbound.SendAsync(fromBob, technical);

        await using var op = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress, width, height, theme);
        var page = op.Page;
        await op.RunAsync(async () =>
        {
            await op.SignInAsync(TestApp.AdminEmail, TestApp.AdminPassword, "/inbox");
            await page.GetByTestId("ticket-row").First.ClickAsync();
            await Assertions.Expect(page.GetByTestId("message")).ToHaveCountAsync(2);
            // A sender with a name shows it; one without shows the address, never nothing.
            await Assertions.Expect(page.GetByTestId("message-sender")).ToHaveTextAsync(["Carla Customer", "bob@customer.test"]);
            await Assertions.Expect(page.GetByTestId("message-role")).ToHaveTextAsync(["in Cc"]);

            var to = page.GetByTestId("recipients-to");
            var cc = page.GetByTestId("recipients-cc");
            await Assertions.Expect(to.GetByTestId("recipient-chip")).ToHaveTextAsync(["bob@customer.test"]);
            await Assertions.Expect(cc.GetByTestId("recipient-chip")).ToHaveTextAsync(["carla@customer.test", "ann@partner.test"]);

            // Remove Ann, try a wrong address (refused in words, nothing added), add Dave, and Bcc the manager.
            await cc.GetByTestId("recipient-chip").Filter(new() { HasText = "ann@partner.test" }).Locator(".mud-chip-close-button").ClickAsync();
            await Assertions.Expect(cc.GetByTestId("recipient-chip")).ToHaveTextAsync(["carla@customer.test"]);
            var ccInput = cc.GetByTestId("recipient-input");
            await ccInput.FillAsync("dave at customer");
            await ccInput.PressAsync("Enter");
            await Assertions.Expect(cc.GetByTestId("recipient-error")).ToContainTextAsync("\"dave at customer\" is not a usable address");
            await Assertions.Expect(cc.GetByTestId("recipient-chip")).ToHaveCountAsync(1);
            await ccInput.FillAsync("dave@customer.test");
            await ccInput.PressAsync("Enter");
            await Assertions.Expect(cc.GetByTestId("recipient-chip")).ToHaveTextAsync(["carla@customer.test", "dave@customer.test"]);
            await Assertions.Expect(cc.GetByTestId("recipient-error")).ToHaveCountAsync(0);
            await page.GetByTestId("show-bcc").ClickAsync();
            var bccInput = page.GetByTestId("recipients-bcc").GetByTestId("recipient-input");
            await bccInput.FillAsync("boss@acme-internal.test");
            await bccInput.PressAsync("Enter");
            await Assertions.Expect(page.GetByTestId("recipients-bcc").GetByTestId("recipient-chip")).ToHaveTextAsync(["boss@acme-internal.test"]);

            // The signature that will go under the reply is shown before sending.
            await Assertions.Expect(page.GetByTestId("reply-signature")).ToContainTextAsync("Acme field service");
            await page.GetByTestId("reply-text").FillAsync("Hi Bob, a technician comes on Monday.");
            await AssertFitsAsync(op);
            await op.ScreenshotAsync($"conversation-composer-{theme}-{width}");
            await page.GetByTestId("send-reply").ClickAsync();
            await Assertions.Expect(page.GetByTestId("delivery")).ToHaveTextAsync("Sent", new() { Timeout = 30_000 });
            // The reply names its author; the chips are back at the defaults, now with Dave.
            await Assertions.Expect(page.GetByTestId("message-sender")).ToHaveTextAsync(["Carla Customer", "bob@customer.test", "Ada Admin"]);
            await Assertions.Expect(cc.GetByTestId("recipient-chip")).ToHaveTextAsync(["carla@customer.test", "ann@partner.test", "dave@customer.test"]);
            await AssertFitsAsync(op);
            await op.ScreenshotAsync($"conversation-thread-{theme}-{width}");
        });

        var sent = (await _relay.WaitForAsync(1)).Single();
        Assert.Equal(["bob@customer.test"], sent.Message.To.Mailboxes.Select(m => m.Address));
        Assert.Equal(["carla@customer.test", "dave@customer.test"], sent.Message.Cc.Mailboxes.Select(m => m.Address));
        Assert.Equal(["bob@customer.test", "boss@acme-internal.test", "carla@customer.test", "dave@customer.test"], sent.EnvelopeTo.Order(StringComparer.Ordinal));
        Assert.False(sent.Message.Headers.Contains(HeaderId.Bcc));
        Assert.EndsWith("-- \nAda Admin\nAcme field service", sent.Message.TextBody!.ReplaceLineEndings("\n").TrimEnd());
    }

    private static MimeMessage Mail(MailboxAddress from, string subject, string messageId) => new()
    {
        From = { from },
        To = { MailboxAddress.Parse("support@acme.test") },
        Subject = subject,
        MessageId = messageId,
        Body = new TextPart("plain") { Text = "The printer jams on every second page." },
    };

    private static async Task AssertFitsAsync(BrowserPage browser)
    {
        var overflow = await browser.Page.EvaluateAsync<int>("document.documentElement.scrollWidth - window.innerWidth");
        Assert.True(overflow <= 0, $"The ticket page is {overflow}px wider than the window.");
    }
}
