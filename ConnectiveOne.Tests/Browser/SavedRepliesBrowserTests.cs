using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ConnectiveOne.Tests.TestSupport;
using Deque.AxeCore.Playwright;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using MimeKit;

namespace ConnectiveOne.Tests.Browser;

/// <summary>One app for the saved-reply browser tests: a capture relay, the bot Support with one ticket by real SMTP, Ann (admin) and Bob (operator).</summary>
public sealed class SavedRepliesBrowserApp : IAsyncLifetime
{
    public const string Password = "user-password-123";
    private CaptureRelay _relay = null!;
    private InboundApp _inbound = null!;

    public CaptureRelay Relay => _relay;
    public TestApp App => _inbound.App;
    public long TicketId { get; private set; }
    public HttpClient Ann { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _relay = await CaptureRelay.StartAsync();
        _inbound = new InboundApp(new Dictionary<string, string?>(_relay.Settings) { ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain });
        App.StartKestrel();
        var technical = await MailSeed.AddressServedByBotAsync(App);
        Ann = App.CreateApiClient(await App.CreateUserWithTokenAsync("ann@example.test", "Admin", Password));
        await App.CreateUserWithTokenAsync("bob@example.test", "Operator", Password);
        await using (var db = App.Database.OpenContext())
        {
            (await db.Users.SingleAsync(u => u.Email == "bob@example.test")).DisplayName = "Bob Baker";
            (await db.Addresses.SingleAsync()).DisplayName = "Acme Support";
            await db.SaveChangesAsync();
        }
        var mail = new MimeMessage();
        mail.From.Add(new MailboxAddress("Carla Customer", "carla@customer.test"));
        mail.To.Add(MailboxAddress.Parse("support@acme.test"));
        mail.Subject = "Where is my refund?";
        mail.Body = new TextPart("plain") { Text = "I sent the printer back two weeks ago." };
        await _inbound.SendAsync(mail, technical);
        TicketId = await MailSeed.WaitForAsync(App, async db => (long?)(await db.Tickets.SingleOrDefaultAsync())?.Id, id => id > 0) ?? 0;
    }

    public async Task DisposeAsync()
    {
        await _inbound.DisposeAsync();
        await _relay.DisposeAsync();
    }
}

/// <summary>
/// Issue #16, saved replies in Chromium: Ann (admin) manages shared replies on their page; Bob (operator) inserts one by
/// typing "#ref" in the reply box and choosing with the keyboard, and one through the Saved replies button; the variables
/// are filled, the customer gets the text through the relay, and the use counts go up. Only the ticket's bot's replies,
/// the all-bots ones and Bob's own are offered. Screenshots and axe of the page and the open picker.
/// </summary>
[Collection(BrowserCollection.Name)]
[Trait("Database", "Sqlite")] // the pages and the picker; SavedRepliesApiTests and SavedReplyServiceTests cover both databases
public sealed class SavedRepliesBrowserTests(ChromiumFixture chromium, SavedRepliesBrowserApp fixture) : IClassFixture<SavedRepliesBrowserApp>
{
    private TestApp App => fixture.App;

    [Fact]
    public async Task Ann_shares_a_reply_and_Bob_inserts_it_with_hash_and_the_keyboard_and_the_customer_gets_it_filled()
    {
        // Not offered on this ticket: another bot's shared reply, and Ann's personal one.
        var sales = await (await fixture.Ann.PostAsJsonAsync("/api/v1/bots", new { name = "Sales" })).Content.ReadFromJsonAsync<JsonElement>();
        (await fixture.Ann.PostAsJsonAsync("/api/v1/saved-replies", new { title = "Refund for Sales", text = "x", botId = sales.GetProperty("id").GetString(), shared = true }))
            .EnsureSuccessStatusCode();
        (await fixture.Ann.PostAsJsonAsync("/api/v1/saved-replies", new { title = "Refund, Ann's own", text = "x", shared = false })).EnsureSuccessStatusCode();

        await using var ann = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress);
        var page = ann.Page;
        var items = page.GetByTestId("saved-reply");
        await ann.RunAsync(async () =>
        {
            await ann.SignInAsync("ann@example.test", SavedRepliesBrowserApp.Password, "/");
            await page.GetByRole(AriaRole.Link, new() { Name = "Saved replies" }).ClickAsync();
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("/saved-replies$"));
            await Assertions.Expect(items).ToHaveCountAsync(2);

            // A new shared reply for the bot Support; an empty title is refused in words first.
            await page.GetByTestId("saved-reply-new").ClickAsync();
            await Field(page, "saved-reply-text").FillAsync("Hello {customer.firstName},\n\nyour refund for ticket #{ticket.number} is on its way.\n\n{operator.name}, {address.name}");
            await page.GetByTestId("saved-reply-save").ClickAsync();
            await Assertions.Expect(page.GetByTestId("saved-reply-error")).ToContainTextAsync("needs a title");
            await Field(page, "saved-reply-title").FillAsync("Refund sent");
            var shared = Field(page, "saved-reply-shared");
            await Assertions.Expect(shared).ToBeCheckedAsync();
            await shared.ClickAsync();
            await Assertions.Expect(shared).Not.ToBeCheckedAsync();
            await shared.ClickAsync();
            await Assertions.Expect(shared).ToBeCheckedAsync();
            await page.GetByTestId("saved-reply-bot").SelectOptionAsync(new SelectOptionValue { Label = "Support" });
            await page.GetByTestId("saved-reply-save").ClickAsync();
            await Assertions.Expect(items).ToHaveCountAsync(3);
            var refund = items.Filter(new() { HasText = "Refund sent" });
            await Assertions.Expect(refund.GetByTestId("saved-reply-scope")).ToHaveTextAsync("Shared · Support");
            await Assertions.Expect(refund.GetByTestId("saved-reply-uses")).ToHaveTextAsync("never used");

            // Another for all bots, renamed through Edit; a third, deleted (after Cancel once, and "Keep it" once).
            await page.GetByTestId("saved-reply-new").ClickAsync();
            await Field(page, "saved-reply-title").FillAsync("Late parcel");
            await Field(page, "saved-reply-text").FillAsync("Sorry {customer.name}, the parcel is late.");
            await page.GetByTestId("saved-reply-save").ClickAsync();
            await items.Filter(new() { HasText = "Late parcel" }).GetByTestId("saved-reply-edit").ClickAsync();
            await Field(page, "saved-reply-title").FillAsync("Late delivery");
            await page.GetByTestId("saved-reply-save").ClickAsync();
            await Assertions.Expect(items.Filter(new() { HasText = "Late delivery" }).GetByTestId("saved-reply-scope")).ToHaveTextAsync("Shared · all bots");
            await page.GetByTestId("saved-reply-new").ClickAsync();
            await page.GetByTestId("saved-reply-cancel").ClickAsync();
            await Assertions.Expect(page.GetByTestId("saved-reply-editor")).ToHaveCountAsync(0);
            await page.GetByTestId("saved-reply-new").ClickAsync();
            await Field(page, "saved-reply-title").FillAsync("Temporary");
            await Field(page, "saved-reply-text").FillAsync("Gone soon.");
            await page.GetByTestId("saved-reply-save").ClickAsync();
            await Assertions.Expect(items).ToHaveCountAsync(5);
            var temporary = items.Filter(new() { HasText = "Temporary" });
            await temporary.GetByTestId("saved-reply-delete").ClickAsync();
            await page.GetByRole(AriaRole.Button, new() { Name = "Keep it" }).ClickAsync();
            await Assertions.Expect(items).ToHaveCountAsync(5);
            await temporary.GetByTestId("saved-reply-delete").ClickAsync();
            await page.GetByRole(AriaRole.Button, new() { Name = "Delete", Exact = true }).ClickAsync();
            await Assertions.Expect(items).ToHaveCountAsync(4);

            // The search box filters the list.
            await Field(page, "saved-replies-search").FillAsync("refund");
            await Assertions.Expect(page.GetByTestId("saved-reply-name")).ToHaveTextAsync(["Refund for Sales", "Refund sent", "Refund, Ann's own"]);
            await Field(page, "saved-replies-search").FillAsync("");
            await Assertions.Expect(items).ToHaveCountAsync(4);
        });

        await using var bob = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress);
        var bobPage = bob.Page;
        var box = bobPage.GetByTestId("reply-text");
        var picker = bobPage.GetByTestId("saved-reply-picker");
        var options = bobPage.GetByTestId("saved-reply-option");
        var ticket = fixture.TicketId;
        var filled = $"Hello Carla,\n\nyour refund for ticket #{ticket} is on its way.\n\nBob Baker, Acme Support";
        await bob.RunAsync(async () =>
        {
            await bob.SignInAsync("bob@example.test", SavedRepliesBrowserApp.Password, $"/inbox/{ticket}");
            await Assertions.Expect(bobPage.GetByTestId("message")).ToHaveCountAsync(1);

            // The button: a search box, filtered as Bob types; a click inserts at the caret.
            await box.FillAsync("Dear customer, ");
            await bobPage.GetByTestId("saved-reply-button").ClickAsync();
            await Assertions.Expect(picker).ToHaveAttributeAsync("data-mode", "button");
            await Assertions.Expect(bobPage.GetByTestId("saved-reply-search")).ToBeFocusedAsync();
            await Assertions.Expect(options.Locator(".c1-saved-option-title")).ToHaveTextAsync(["Late delivery", "Refund sent"]);
            await bobPage.GetByTestId("saved-reply-search").PressSequentiallyAsync("late");
            await Assertions.Expect(options).ToHaveCountAsync(1);
            await options.First.ClickAsync();
            await Assertions.Expect(picker).ToHaveCountAsync(0);
            await Assertions.Expect(box).ToHaveValueAsync("Dear customer, Sorry Carla Customer, the parcel is late.");
            // The button again, closed with Esc: back in the reply box, nothing inserted.
            await bobPage.GetByTestId("saved-reply-button").ClickAsync();
            await Assertions.Expect(bobPage.GetByTestId("saved-reply-search")).ToBeFocusedAsync();
            await bobPage.Keyboard.PressAsync("Escape");
            await Assertions.Expect(picker).ToHaveCountAsync(0);
            await Assertions.Expect(box).ToBeFocusedAsync();

            // "#ref" at the start of a word: only this ticket's bot's and the all-bots replies and Bob's own are offered.
            await box.FillAsync("Thanks! ");
            await TypeHashAsync(bobPage, "ref");
            await Assertions.Expect(options.Locator(".c1-saved-option-title")).ToHaveTextAsync(["Refund sent"]);
            // Esc closes only the picker: the text, the focus and the ticket stay.
            await bobPage.Keyboard.PressAsync("Escape");
            await Assertions.Expect(picker).ToHaveCountAsync(0);
            await Assertions.Expect(box).ToBeFocusedAsync();
            await Assertions.Expect(box).ToHaveValueAsync("Thanks! #ref");
            await Assertions.Expect(bobPage).ToHaveURLAsync(new Regex($"/inbox/{ticket}$"));
            // A new "#" opens it again, with every reply offered here.
            await bobPage.Keyboard.TypeAsync(" ");
            await TypeHashAsync(bobPage, "");
            await Assertions.Expect(options).ToHaveCountAsync(2);
            // The arrows move the choice (and wrap); Enter inserts it in place of "#".
            await Assertions.Expect(options.First).ToHaveAttributeAsync("aria-selected", "true");
            await bobPage.Keyboard.PressAsync("ArrowDown");
            await Assertions.Expect(options.Nth(1)).ToHaveAttributeAsync("aria-selected", "true");
            await bobPage.Keyboard.PressAsync("ArrowDown");
            await Assertions.Expect(options.First).ToHaveAttributeAsync("aria-selected", "true");
            await bobPage.Keyboard.PressAsync("ArrowUp");
            await Assertions.Expect(options.Nth(1)).ToHaveAttributeAsync("aria-selected", "true");
            await Assertions.Expect(options.Nth(1)).ToContainTextAsync("Refund sent");
            await bobPage.Keyboard.PressAsync("Enter");
            await Assertions.Expect(picker).ToHaveCountAsync(0);
            await Assertions.Expect(box).ToHaveValueAsync("Thanks! #ref " + filled);
            await Assertions.Expect(box).ToBeFocusedAsync();

            await box.FillAsync("");
            await TypeHashAsync(bobPage, "ref");
            await Assertions.Expect(options).ToHaveCountAsync(1);
            await bobPage.Keyboard.PressAsync("Enter");
            await Assertions.Expect(box).ToHaveValueAsync(filled);
            await bobPage.GetByTestId("send-reply").ClickAsync();
            await Assertions.Expect(bobPage.GetByTestId("delivery")).ToHaveTextAsync("Sent", new() { Timeout = 30_000 });
        });

        var sent = (await fixture.Relay.WaitForAsync(1)).Single();
        Assert.Equal(["carla@customer.test"], sent.Message.To.Mailboxes.Select(m => m.Address));
        Assert.StartsWith(filled.ReplaceLineEndings("\n"), sent.Message.TextBody!.ReplaceLineEndings("\n"));

        // Each insertion counted: the button once, "#ref" twice.
        await ann.RunAsync(async () =>
        {
            await page.ReloadAsync();
            await ann.WaitInteractiveAsync();
            await Assertions.Expect(items.Filter(new() { HasText = "Refund sent" }).GetByTestId("saved-reply-uses")).ToHaveTextAsync("used 2 times");
            await Assertions.Expect(items.Filter(new() { HasText = "Late delivery" }).GetByTestId("saved-reply-uses")).ToHaveTextAsync("used once");
        });
    }

    [Fact]
    public async Task The_page_and_the_open_picker_fit_a_laptop_and_a_phone_with_no_serious_axe_findings()
    {
        // Cleo's own replies: personal, so the other test of this class never sees them.
        var cleo = App.CreateApiClient(await App.CreateUserWithTokenAsync("cleo@example.test", "Operator", SavedRepliesBrowserApp.Password));
        foreach (var title in new[] { "Shipping times", "Opening hours" })
            (await cleo.PostAsJsonAsync("/api/v1/saved-replies", new
            {
                title, text = "Hello {customer.firstName},\n\nwe ship within two working days; you will get a tracking link by mail.", shared = false,
            })).EnsureSuccessStatusCode();
        var findings = new StringBuilder();
        foreach (var (width, height, theme) in Screens.LaptopAndPhone)
        {
            await using var op = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress, width, height, theme);
            var page = op.Page;
            await op.RunAsync(async () =>
            {
                await op.SignInAsync("cleo@example.test", SavedRepliesBrowserApp.Password, "/saved-replies");
                await Assertions.Expect(page.GetByTestId("saved-reply").First).ToBeVisibleAsync();
                await page.GetByTestId("saved-reply-new").ClickAsync();
                await Field(page, "saved-reply-title").FillAsync("My own greeting");
                await Assertions.Expect(Field(page, "saved-reply-shared")).ToHaveCountAsync(0); // operators make personal ones only
                await op.AssertFitsWindowAsync($"saved replies page {width} {theme}");
                await AxeAsync(op, $"saved replies page ({width}, {theme})", findings);
                await op.ScreenshotAsync($"saved-replies-page-{theme}-{width}");
                await page.GetByTestId("saved-reply-cancel").ClickAsync();

                await op.GotoAsync($"/inbox/{fixture.TicketId}");
                await op.WaitInteractiveAsync();
                await Assertions.Expect(page.GetByTestId("message").First).ToBeVisibleAsync();
                await page.GetByTestId("reply-text").FillAsync("Hi! ");
                await TypeHashAsync(page, "");
                await Assertions.Expect(page.GetByTestId("saved-reply-option").First).ToBeVisibleAsync();
                await page.GetByTestId("saved-reply-picker").ScrollIntoViewIfNeededAsync();
                await op.AssertFitsWindowAsync($"picker {width} {theme}");
                await AxeAsync(op, $"open picker ({width}, {theme})", findings);
                await op.ScreenshotAsync($"saved-replies-picker-{theme}-{width}");
            });
        }
        Assert.True(findings.Length == 0, "axe found serious or critical problems:\n" + findings);
    }

    // "#" and then each letter, waiting for the picker to show the word so far (it hears of the word through
    // saved-replies.js and the server), so each step is checked as typed.
    private static async Task TypeHashAsync(IPage page, string word)
    {
        for (var i = 0; i <= word.Length; i++)
        {
            await page.Keyboard.TypeAsync(i == 0 ? "#" : word[i - 1].ToString());
            await Assertions.Expect(page.GetByTestId("saved-reply-picker")).ToContainTextAsync($"“#{word[..i]}”");
        }
    }

    // MudBlazor puts a field's attributes on its input, or on the component's root around it.
    private static ILocator Field(IPage page, string testId) =>
        page.Locator($"input[data-testid='{testId}'], textarea[data-testid='{testId}'], [data-testid='{testId}'] input, [data-testid='{testId}'] textarea").First;

    private static async Task AxeAsync(BrowserPage browser, string what, StringBuilder findings)
    {
        var result = await browser.Page.RunAxe();
        foreach (var violation in result.Violations.Where(v => v.Impact is "serious" or "critical"))
        {
            findings.AppendLine($"{what}: {violation.Impact} {violation.Id}: {violation.Help}");
            foreach (var node in violation.Nodes.Take(5))
                findings.AppendLine($"    {node.Target} {node.Html}");
        }
    }
}
