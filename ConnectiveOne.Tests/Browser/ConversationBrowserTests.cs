using System.Net.Http.Json;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using MimeKit;

namespace ConnectiveOne.Tests.Browser;

/// <summary>
/// Issue #14 in Chromium: the composer's To/Cc/Bcc chips start at the reply-all defaults and are changed by clicking and
/// typing; the reply reaches a capture relay with those recipients; the thread names who wrote each message. The composer
/// previews Markdown, offers the quote, says which signature applies and why a reply goes from the technical address; each
/// user edits their own name and signature.
/// </summary>
[Collection(BrowserCollection.Name)]
[Trait("Database", "Sqlite")] // what the page shows and how it is operated, not the provider: API and integration tests cover both databases
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

    [Theory]
    [MemberData(nameof(Screens.LaptopAndPhoneData), MemberType = typeof(Screens))]
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
            await op.AssertFitsWindowAsync("the ticket page");
            await op.AssertReplyBoxShowsAsync(2, "writing with To, Cc and Bcc open");
            await op.ScreenshotAsync($"conversation-composer-{theme}-{width}");
            await page.GetByTestId("send-reply").ClickAsync();
            await Assertions.Expect(page.GetByTestId("delivery")).ToHaveTextAsync("Sent", new() { Timeout = 30_000 });
            // The reply names its author; the chips are back at the defaults, now with Dave.
            await Assertions.Expect(page.GetByTestId("message-sender")).ToHaveTextAsync(["Carla Customer", "bob@customer.test", "Ada Admin"]);
            await Assertions.Expect(cc.GetByTestId("recipient-chip")).ToHaveTextAsync(["carla@customer.test", "ann@partner.test", "dave@customer.test"]);
            await op.AssertFitsWindowAsync("the ticket page");
            await op.ScreenshotAsync($"conversation-thread-{theme}-{width}");
        });

        var sent = (await _relay.WaitForAsync(1)).Single();
        Assert.Equal(["bob@customer.test"], sent.Message.To.Mailboxes.Select(m => m.Address));
        Assert.Equal(["carla@customer.test", "dave@customer.test"], sent.Message.Cc.Mailboxes.Select(m => m.Address));
        Assert.Equal(["bob@customer.test", "boss@acme-internal.test", "carla@customer.test", "dave@customer.test"], sent.EnvelopeTo.Order(StringComparer.Ordinal));
        Assert.False(sent.Message.Headers.Contains(HeaderId.Bcc));
        Assert.EndsWith("-- \nAda Admin\nAcme field service", sent.Message.TextBody!.ReplaceLineEndings("\n").TrimEnd());
    }

    [Theory]
    [MemberData(nameof(Screens.LaptopAndPhoneData), MemberType = typeof(Screens))]
    public async Task The_composer_previews_Markdown_offers_the_quote_and_says_which_signature_and_sender_apply(int width, int height, string theme)
    {
        var technical = await MailSeed.AddressServedByBotAsync(App);
        Guid addressId;
        await using (var db = App.Database.OpenContext())
        {
            addressId = (await db.Addresses.SingleAsync()).Id;
            // The domain's DNS broke since it was verified (as the re-check finds): replies must not go From acme.test.
            (await db.Domains.SingleAsync(d => d.Name == "acme.test")).Status = DomainStatus.Failed;
            await db.SaveChangesAsync();
        }
        var api = App.CreateApiClient();
        (await api.PatchAsJsonAsync("/api/v1/users/me", new { displayName = "Ada Admin", signature = "Ada's own signature" })).EnsureSuccessStatusCode();
        (await api.PatchAsJsonAsync($"/api/v1/addresses/{addressId}",
            new { displayName = "Acme Support", signature = "{operator.firstName} for {address.name}", quoteByDefault = true })).EnsureSuccessStatusCode();
        await _inbound.SendAsync(Mail(new MailboxAddress("Carla Customer", "carla@customer.test"), "Printer jams", "jam@customer.test"), technical);

        await using var op = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress, width, height, theme);
        var page = op.Page;
        await op.RunAsync(async () =>
        {
            await op.SignInAsync(TestApp.AdminEmail, TestApp.AdminPassword, "/inbox");
            await page.GetByTestId("ticket-row").First.ClickAsync();
            // Before anything is sent: the address's signature wins over Ada's own, the quote is on as the address says,
            // and the composer says in words why the reply goes from the technical address.
            await Assertions.Expect(page.GetByTestId("reply-signature")).ToContainTextAsync("Signed with the signature of Acme Support:");
            await Assertions.Expect(page.GetByTestId("reply-signature")).ToContainTextAsync("Ada for Acme Support");
            var quote = page.GetByLabel("Include the message you answer");
            await Assertions.Expect(quote).ToBeCheckedAsync();
            await Assertions.Expect(page.GetByTestId("sender-notice")).ToContainTextAsync($"acme.test is not verified");
            await Assertions.Expect(page.GetByTestId("sender-notice")).ToContainTextAsync($"goes from {technical} with Reply-To support@acme.test");

            await page.GetByTestId("reply-text").FillAsync("**Monday** works.\n\n- bring the _serial number_\n- see [the guide](https://acme.test/guide)\n\n`E42` is the code.");
            await page.GetByTestId("tab-preview").ClickAsync();
            var preview = page.FrameLocator("[data-testid=reply-preview]").Locator("body");
            await Assertions.Expect(preview.Locator("strong")).ToHaveTextAsync("Monday");
            await Assertions.Expect(preview.Locator("li")).ToHaveTextAsync(["bring the serial number", "see the guide"]);
            await Assertions.Expect(preview.Locator("em")).ToHaveTextAsync("serial number");
            await Assertions.Expect(preview.Locator("a")).ToHaveAttributeAsync("href", "https://acme.test/guide");
            await Assertions.Expect(preview.Locator("code")).ToHaveTextAsync("E42");
            await Assertions.Expect(preview.Locator("blockquote[type=cite]")).ToContainTextAsync("The printer jams on every second page.");
            await Assertions.Expect(preview).ToContainTextAsync("Carla Customer <carla@customer.test> wrote:");
            await Assertions.Expect(preview).ToContainTextAsync("Ada for Acme Support");
            await op.AssertFitsWindowAsync("the ticket page");
            await op.ScreenshotAsync($"composer-preview-{theme}-{width}");

            // The operator leaves the quote out: the preview follows at once; Write brings the text back as typed.
            await page.GetByText("Include the message you answer").ClickAsync();
            await Assertions.Expect(quote).Not.ToBeCheckedAsync();
            await Assertions.Expect(preview.Locator("blockquote")).ToHaveCountAsync(0);
            await page.GetByTestId("tab-write").ClickAsync();
            await Assertions.Expect(page.GetByTestId("reply-text")).ToHaveValueAsync(new System.Text.RegularExpressions.Regex(@"^\*\*Monday\*\* works\."));
            await op.ScreenshotAsync($"composer-write-{theme}-{width}");
            await page.GetByTestId("send-reply").ClickAsync();
            await Assertions.Expect(page.GetByTestId("delivery")).ToHaveTextAsync("Sent", new() { Timeout = 30_000 });
        });

        var sent = (await _relay.WaitForAsync(1)).Single().Message;
        Assert.Contains("<strong>Monday</strong>", sent.HtmlBody);
        Assert.DoesNotContain("wrote:", sent.TextBody);
        Assert.Equal(technical, sent.From.Mailboxes.Single().Address);
        Assert.Equal("support@acme.test", sent.ReplyTo.Mailboxes.Single().Address);
    }

    [Theory]
    [MemberData(nameof(Screens.LaptopAndPhoneData), MemberType = typeof(Screens))]
    public async Task A_user_sets_their_own_name_and_signature_from_the_account_menu(int width, int height, string theme)
    {
        await App.CreateUserWithTokenAsync("olga@acme.test", "Operator", "olga-password-1");

        await using var op = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress, width, height, theme);
        var page = op.Page;
        await op.RunAsync(async () =>
        {
            await op.SignInAsync("olga@acme.test", "olga-password-1");
            await page.GetByTestId("account-menu-button").ClickAsync();
            await page.GetByTestId("menu-profile").ClickAsync();
            await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/account/profile$"));
            await page.GetByLabel("Display name").FillAsync("Olga Berg");
            await page.GetByLabel("Signature").FillAsync("Olga Berg\nSecond level support");
            await op.ScreenshotAsync($"profile-{theme}-{width}");
            await page.GetByTestId("profile-save").ClickAsync();
            await Assertions.Expect(page.GetByTestId("profile-result")).ToHaveTextAsync("Saved. Your next replies use this name and signature.");
            // A fresh load shows what was saved, not what the form still held.
            await page.ReloadAsync();
            await Assertions.Expect(page.GetByLabel("Display name")).ToHaveValueAsync("Olga Berg");
            await Assertions.Expect(page.GetByLabel("Signature")).ToHaveValueAsync("Olga Berg\nSecond level support");

            // Too long a name is refused in words and nothing changes.
            await page.GetByLabel("Display name").EvaluateAsync("e => { e.removeAttribute('maxlength'); e.value = 'x'.repeat(101); }");
            await page.GetByTestId("profile-save").ClickAsync();
            await Assertions.Expect(page.GetByTestId("profile-result")).ToContainTextAsync("A display name is one line of at most 100 characters.");
        });

        await using var db = App.Database.OpenContext();
        var user = await db.Users.SingleAsync(u => u.Email == "olga@acme.test");
        Assert.Equal(("Olga Berg", "Olga Berg\nSecond level support"), (user.DisplayName, user.Signature));
    }

    private static MimeMessage Mail(MailboxAddress from, string subject, string messageId) => new()
    {
        From = { from },
        To = { MailboxAddress.Parse("support@acme.test") },
        Subject = subject,
        MessageId = messageId,
        Body = new TextPart("plain") { Text = "The printer jams on every second page." },
    };
}
