using System.Net.Http.Json;
using System.Text.Json;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Inbound.Smtp;
using ConnectiveOne.Tests.TestSupport;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Microsoft.Playwright;

namespace ConnectiveOne.Tests.Browser;

/// <summary>
/// Issue #18, honest states: the wizard's marks, chips and finish come from state (DNS answered by a real server on
/// loopback, mail through the real SMTP listener, test mails through a capture relay), and they go back when the state
/// does. The background re-check runs every second, so "never Failed before an attempt" is checked against real rounds.
/// </summary>
[Collection(BrowserPagesCollection.Name)]
public sealed class SetupHonestBrowserTests(ChromiumFixture chromium) : IAsyncLifetime
{
    private const string Domain = "acme.test";
    private const string Email = "support@acme.test";

    private CaptureRelay _relay = null!;
    private SetupApp _setup = null!;
    private BrowserPage _browser = null!;
    private HttpClient _api = null!;

    public async Task InitializeAsync()
    {
        _relay = await CaptureRelay.StartAsync();
        var settings = _relay.Settings;
        settings["ConnectiveOne:Smtp:Listen"] = "127.0.0.1:0";
        _setup = SetupApp.Start(new Dictionary<string, string?>
        {
            ["PollInterval"] = "00:00:00.500",
            ["FastInterval"] = "00:00:01",
            ["VerifiedInterval"] = "00:00:01",
        }, settings);
        _setup.App.StartKestrel();
        _api = _setup.App.CreateApiClient();
        _browser = await BrowserPage.OpenAsync(chromium.Browser, _setup.App.ServerAddress);
        await _browser.SignInAsync(TestApp.AdminEmail, TestApp.AdminPassword);
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _browser.DisposeAsync();
        await _setup.DisposeAsync();
        await _relay.DisposeAsync();
    }

    private IPage Page => _browser.Page;

    private ILocator Mark(string step) => Page.Locator($"[data-testid='step-mark'][data-step='{step}']");

    private ILocator Step(string title) => Page.Locator(".c1-stepper .mud-stepper-nav > .mud-step", new() { HasText = title });

    private Task WaitReadyAsync() => Assertions.Expect(Page.Locator("[data-ready]")).ToHaveAttributeAsync("data-ready", "true");

    private async Task<JsonElement> DomainAsync() => await SetupApp.JsonAsync(await _api.GetAsync($"/api/v1/domains/{Domain}"));

    private async Task OpenStepAsync(string id, int step)
    {
        await Page.GotoAsync($"/setup/addresses/{id}?step={step}");
        await WaitReadyAsync();
    }

    private async Task SendAsync(MimeMessage message, string technical)
    {
        var endpoint = await _setup.App.Services.GetRequiredService<SmtpListener>().Started
            ?? throw new InvalidOperationException("SMTP is off.");
        using var client = new SmtpClient();
        await client.ConnectAsync(endpoint.Address.ToString(), endpoint.Port, SecureSocketOptions.None);
        await client.SendAsync(message, MailboxAddress.Parse("sender@example.org"), [MailboxAddress.Parse(technical)]);
        await client.DisconnectAsync(true);
    }

    private static MimeMessage Mail(string from, string subject)
    {
        var mail = new MimeMessage();
        mail.From.Add(MailboxAddress.Parse(from));
        mail.To.Add(MailboxAddress.Parse(Email));
        mail.Subject = subject;
        mail.Body = new TextPart("plain") { Text = "Hello,\nmy order did not arrive.\nDana" };
        return mail;
    }

    [Fact]
    public async Task A_fresh_address_with_a_foreign_spf_is_not_verified_yet_never_failed_until_verify_now()
    {
        await _browser.RunAsync(async () =>
        {
            var statusChanges = new List<string>();
            using var subscription = _setup.App.Services.GetRequiredService<ChangeNotifier>().Subscribe(c =>
            {
                if (c.Kind == ChangeKind.DomainStatusChanged)
                    lock (statusChanges) statusChanges.Add(c.Summary ?? "");
            });
            _setup.Dns.SetTxt(Domain, "v=spf1 include:_spf.google.com ~all");
            var address = await _setup.AddAddressAsync(_api, Email);
            var id = address.GetProperty("id").GetString()!;

            // Two background rounds after the first check: the foreign SPF record has been seen and judged twice.
            var first = await WaitForDomainAsync(d => d.TryGetProperty("checkedAt", out var at) && at.ValueKind != JsonValueKind.Null);
            var later = await WaitForDomainAsync(d => d.GetProperty("checkedAt").GetDateTimeOffset() > first.GetProperty("checkedAt").GetDateTimeOffset());
            Assert.Equal("Pending", later.GetProperty("status").GetString());
            Assert.Equal(JsonValueKind.Null, later.GetProperty("attemptedAt").ValueKind);
            var spf = later.GetProperty("records").EnumerateArray().Single(r => r.GetProperty("purpose").GetString() == "Spf");
            Assert.Equal("Missing", spf.GetProperty("status").GetString());
            Assert.Equal("v=spf1 include:_spf.google.com include:mailgun.org ~all", spf.GetProperty("value").GetString());

            await OpenStepAsync(id, 4);
            var chip = Page.Locator("[data-testid='domain-status']").First;
            await Assertions.Expect(chip).ToHaveAttributeAsync("data-status", "Pending");
            await Assertions.Expect(chip).ToHaveTextAsync("Not verified yet");
            await Assertions.Expect(Mark("Verify")).ToHaveAttributeAsync("data-mark", "None");
            await Assertions.Expect(Step("Verify")).ToContainTextAsync("not verified yet");
            await Assertions.Expect(Page.GetByText("Not verified yet — publish the records in step 3")).ToBeVisibleAsync();
            lock (statusChanges)
                Assert.DoesNotContain(statusChanges, s => s.Contains("Failed", StringComparison.Ordinal));
            await _browser.ScreenshotAsync("setup-honest-4-not-verified-yet");

            // Verify Now is the attempt: now the record that lacks the include is wrong, and the page says what it found.
            await Page.GetByTestId("verify-now").ClickAsync();
            await Assertions.Expect(chip).ToHaveAttributeAsync("data-status", "Failed");
            await Assertions.Expect(Mark("Verify")).ToHaveAttributeAsync("data-mark", "Error");
            await Assertions.Expect(Page.GetByTestId("verify-changes")).ToContainTextAsync("SPF found but wrong");
            await _browser.ScreenshotAsync("setup-honest-4-failed-after-verify-now");

            // Publishing what step 3 shows and verifying again sets the marks of steps 3 and 4 …
            _setup.Publish(await DomainAsync());
            await Page.GetByTestId("verify-now").ClickAsync();
            await Assertions.Expect(chip).ToHaveAttributeAsync("data-status", "Verified");
            await Assertions.Expect(Page.GetByTestId("verify-changes")).ToContainTextAsync("DKIM (k1) found");
            await Assertions.Expect(Mark("Verify")).ToHaveAttributeAsync("data-mark", "Done");
            await Assertions.Expect(Mark("DNS records")).ToHaveAttributeAsync("data-mark", "Done");

            // … and a record removed later (seen by the background check, live) takes them back.
            _setup.Dns.Remove($"k1._domainkey.{Domain}");
            await Assertions.Expect(chip).ToHaveAttributeAsync("data-status", "Failed");
            await Assertions.Expect(Mark("Verify")).ToHaveAttributeAsync("data-mark", "Error");
            await Assertions.Expect(Mark("DNS records")).ToHaveAttributeAsync("data-mark", "None");
        });
    }

    private async Task<JsonElement> WaitForDomainAsync(Func<JsonElement, bool> done)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var domain = await DomainAsync();
            if (done(domain))
                return domain;
            // The worker's own round is the signal; poll its result like the page would see it.
            await Task.Delay(200, timeout.Token);
        }
    }

    [Fact]
    public async Task Forwarding_test_and_bot_marks_follow_their_state_both_ways_and_the_finish_says_what_works()
    {
        await _browser.RunAsync(async () =>
        {
            var address = await _setup.AddAddressAsync(_api, Email);
            var id = address.GetProperty("id").GetString()!;
            var technical = address.GetProperty("technicalAddress").GetString()!;
            await OpenStepAsync(id, 2);
            foreach (var step in new[] { "Forwarding", "DNS records", "Verify", "Test", "Bot" })
                await Assertions.Expect(Mark(step)).ToHaveAttributeAsync("data-mark", "None");
            await Assertions.Expect(Mark("Add email")).ToHaveAttributeAsync("data-mark", "Done");
            await _browser.ScreenshotAsync("setup-honest-2-waiting");

            // Redirected mail arrives: Receiving, done. Forwarded-as mail: the mark turns into a warning.
            await SendAsync(Mail("dana@example.org", "Order 20931"), technical);
            await Assertions.Expect(Mark("Forwarding")).ToHaveAttributeAsync("data-mark", "Done");
            await SendAsync(Mail(Email, "Fwd: Order 20932"), technical);
            await Assertions.Expect(Mark("Forwarding")).ToHaveAttributeAsync("data-mark", "Warning");
            await Assertions.Expect(Page.GetByTestId("forwarded-warning")).ToBeVisibleAsync();
            await Assertions.Expect(Step("Forwarding")).ToContainTextAsync("forwarded, not redirected");

            // The forwarding test from step 2, beside the status: the relay gets it, the redirect brings it back.
            var forwardingPanel = Page.GetByTestId("forwarding-panel");
            await forwardingPanel.GetByTestId("forwarding-test").ClickAsync();
            var sent = Assert.Single(await _relay.WaitForAsync());
            Assert.Equal([Email], sent.EnvelopeTo);
            await Assertions.Expect(forwardingPanel.GetByTestId("forwarding-test-state")).ToContainTextAsync("waiting for it to arrive");
            await SendAsync(sent.Message, technical);
            await Assertions.Expect(forwardingPanel.Locator("[data-testid='forwarding-status']")).ToHaveAttributeAsync("data-status", "Confirmed");
            await Assertions.Expect(forwardingPanel.GetByTestId("forwarding-test-state")).ToContainTextAsync("Forwarding confirmed");
            await Assertions.Expect(Mark("Forwarding")).ToHaveAttributeAsync("data-mark", "Done");
            await _browser.ScreenshotAsync("setup-honest-2-confirmed");

            // Step 5: confirmed forwarding alone is not a test; a test mail the relay took is.
            await Step("Test").ClickAsync();
            await Assertions.Expect(Page.GetByTestId("test-returned")).ToBeVisibleAsync();
            await Assertions.Expect(Mark("Test")).ToHaveAttributeAsync("data-mark", "None");
            await Page.GetByRole(AriaRole.Button, new() { Name = "Send test email" }).ClickAsync();
            await Assertions.Expect(Mark("Test")).ToHaveAttributeAsync("data-mark", "Done");

            // Step 6 before a bot: not live yet; the bot made here makes it live, with what works and why.
            await Page.GetByTestId("step-next").ClickAsync();
            await Assertions.Expect(Page.GetByTestId("live-summary")).ToHaveAttributeAsync("data-live", "false");
            await Assertions.Expect(Mark("Bot")).ToHaveAttributeAsync("data-mark", "None");
            await Page.GetByRole(AriaRole.Button, new() { Name = "Create bot and use this address" }).ClickAsync();
            await Assertions.Expect(Mark("Bot")).ToHaveAttributeAsync("data-mark", "Done");
            var summary = Page.GetByTestId("live-summary");
            await Assertions.Expect(summary).ToHaveAttributeAsync("data-live", "true");
            await Assertions.Expect(Page.GetByTestId("live-title")).ToHaveTextAsync($"{Email} is live");
            await Assertions.Expect(summary.GetByTestId("summary-receiving")).ToContainTextAsync("a forwarding test proved the redirect");
            await Assertions.Expect(summary.GetByTestId("summary-replying")).ToContainTextAsync($"Replying from the technical address {technical}");
            await Assertions.Expect(summary.GetByTestId("summary-bot")).ToContainTextAsync("the bot Support");
            await Assertions.Expect(summary.GetByTestId("open-inbox")).ToHaveAttributeAsync("href", "/inbox");
            await _browser.ScreenshotAsync("setup-honest-6-live");

            // Unset: the bot lets the address go, and forwarded-as mail arrives again; reopened, the wizard shows both.
            var bots = await SetupApp.JsonAsync(await _api.GetAsync("/api/v1/bots"));
            var botId = bots.EnumerateArray().Single().GetProperty("id").GetString();
            (await _api.DeleteAsync($"/api/v1/bots/{botId}/email")).EnsureSuccessStatusCode();
            await SendAsync(Mail(Email, "FW: Order 20933"), technical);
            await Assertions.Expect(Mark("Forwarding")).ToHaveAttributeAsync("data-mark", "Warning");
            await Assertions.Expect(Mark("Test")).ToHaveAttributeAsync("data-mark", "None");
            await OpenStepAsync(id, 6);
            await Assertions.Expect(Mark("Bot")).ToHaveAttributeAsync("data-mark", "None");
            await Assertions.Expect(Page.GetByTestId("live-summary")).ToHaveAttributeAsync("data-live", "false");
        });
    }

    [Fact]
    public async Task Addresses_and_bots_are_renamed_and_removed_with_confirmation_and_their_blocks()
    {
        await _browser.RunAsync(async () =>
        {
            var app = _setup.App;
            await MailSeed.AddressServedByBotAsync(app, Email); // bot "Support" uses it
            var sales = await MailSeed.AddressAsync(app, "sales@acme.test", Core.Dns.DomainStatus.Verified);
            await MailSeed.TicketAsync(app, sales); // a ticket came in through it
            await MailSeed.AddressAsync(app, "info@acme.test", Core.Dns.DomainStatus.Verified);
            var supportBot = (await SetupApp.JsonAsync(await _api.GetAsync("/api/v1/bots"))).EnumerateArray().Single();
            var support = (await SetupApp.JsonAsync(await _api.GetAsync("/api/v1/addresses"))).EnumerateArray()
                .Single(a => a.GetProperty("email").GetString() == Email);
            var supportRecord = new Core.Addresses.CorporateAddress
            {
                Id = support.GetProperty("id").GetGuid(), Email = Email, NormalizedEmail = Email, Domain = Domain, TechnicalAddress = "x",
            };
            await MailSeed.TicketAsync(app, supportRecord, "Where is my parcel", supportBot.GetProperty("id").GetGuid());

            await Page.GotoAsync("/setup");
            await _browser.WaitInteractiveAsync();
            var table = Page.GetByTestId("address-table");
            var dialog = Page.Locator(".mud-dialog");

            async Task OpenMenuAsync(string email, string item)
            {
                await table.Locator("tr", new() { HasText = email }).GetByRole(AriaRole.Button, new() { Name = $"More for {email}" }).ClickAsync();
                await Page.Locator(".mud-popover-open").GetByText(item, new() { Exact = true }).ClickAsync();
            }

            // Blocked by the bot, named; blocked by a ticket, counted. Nothing is removed.
            await OpenMenuAsync(Email, "Remove");
            await Assertions.Expect(dialog).ToContainTextAsync("The bot \"Support\" uses support@acme.test");
            await _browser.ScreenshotAsync("setup-honest-remove-blocked-by-bot");
            await dialog.GetByRole(AriaRole.Button, new() { Name = "OK" }).ClickAsync();
            await OpenMenuAsync("sales@acme.test", "Remove");
            await Assertions.Expect(dialog).ToContainTextAsync("1 ticket came in through sales@acme.test");
            await dialog.GetByRole(AriaRole.Button, new() { Name = "OK" }).ClickAsync();
            await Assertions.Expect(table.Locator("tr", new() { HasText = "sales@acme.test" })).ToHaveCountAsync(1);

            // Renamed, then removed after the dialog said what happens.
            await OpenMenuAsync("info@acme.test", "Rename");
            await Page.Locator("[data-testid='name-input'] input, input[data-testid='name-input']").First.FillAsync("Acme Info");
            await Page.GetByTestId("name-save").ClickAsync();
            await Assertions.Expect(table.Locator("tr", new() { HasText = "info@acme.test" }).GetByTestId("address-name")).ToHaveTextAsync("as “Acme Info”");
            await OpenMenuAsync("info@acme.test", "Remove");
            await Assertions.Expect(dialog).ToContainTextAsync("No ticket came in through it");
            await _browser.ScreenshotAsync("setup-honest-remove-confirm");
            await dialog.GetByRole(AriaRole.Button, new() { Name = "Remove" }).ClickAsync();
            await Assertions.Expect(table.Locator("tr", new() { HasText = "info@acme.test" })).ToHaveCountAsync(0);
            Assert.Equal(2, (await SetupApp.JsonAsync(await _api.GetAsync("/api/v1/addresses"))).GetArrayLength());

            // Bots: a taken name is refused in words; a rename keeps the channel; removal says what becomes of the tickets.
            (await _api.PostAsJsonAsync("/api/v1/bots", new { name = "Sales" })).EnsureSuccessStatusCode();
            await Page.GotoAsync("/bots");
            await _browser.WaitInteractiveAsync();
            var card = Page.Locator(".c1-bot", new() { HasText = Email });
            await card.GetByRole(AriaRole.Button, new() { Name = "More for Support" }).ClickAsync();
            await Page.Locator(".mud-popover-open").GetByText("Rename", new() { Exact = true }).ClickAsync();
            var nameInput = Page.Locator("[data-testid='name-input'] input, input[data-testid='name-input']").First;
            await nameInput.FillAsync("sales");
            await Page.GetByTestId("name-save").ClickAsync();
            await Assertions.Expect(Page.GetByTestId("name-error")).ToContainTextAsync("A bot named sales already exists");
            await nameInput.FillAsync("Help desk");
            await Page.GetByTestId("name-save").ClickAsync();
            await Assertions.Expect(card.Locator(".c1-bot-name")).ToHaveTextAsync("Help desk");

            await card.GetByRole(AriaRole.Button, new() { Name = "More for Help desk" }).ClickAsync();
            await Page.Locator(".mud-popover-open").GetByText("Remove", new() { Exact = true }).ClickAsync();
            await Assertions.Expect(dialog).ToContainTextAsync("Its 1 ticket is kept");
            await Assertions.Expect(dialog).ToContainTextAsync($"{Email} is freed");
            await _browser.ScreenshotAsync("setup-honest-bot-remove-confirm");
            await dialog.GetByRole(AriaRole.Button, new() { Name = "Remove" }).ClickAsync();
            await Assertions.Expect(Page.Locator(".c1-bot-name", new() { HasText = "Help desk" })).ToHaveCountAsync(0);
            var left = await SetupApp.JsonAsync(await _api.GetAsync("/api/v1/bots"));
            Assert.Equal(["Sales"], left.EnumerateArray().Select(b => b.GetProperty("name").GetString()));

            // The address is free of the bot now, but its ticket still holds it.
            await Page.GotoAsync("/setup");
            await _browser.WaitInteractiveAsync();
            await OpenMenuAsync(Email, "Remove");
            await Assertions.Expect(dialog).ToContainTextAsync("1 ticket came in through support@acme.test");
        });
    }

    /// <summary>
    /// Pictures for people (issue #18, acceptance 4): every step of a fresh address (foreign SPF, nothing published) and
    /// of a finished one (verified, forwarding confirmed, a test sent, a bot), laptop and phone (themes as
    /// <see cref="Screens"/> picks them). Each page must also fit its width.
    /// </summary>
    [SqliteFact]
    [Trait("Database", "Sqlite")]
    public async Task Every_step_before_and_after_fits_a_laptop_and_a_phone()
    {
        _setup.Dns.SetTxt(Domain, "v=spf1 include:_spf.google.com ~all");
        var before = (await _setup.AddAddressAsync(_api, Email)).GetProperty("id").GetString()!;
        var after = (await _setup.AddAddressAsync(_api, "help@shop.test")).GetProperty("id").GetString()!;
        _setup.Publish(await SetupApp.JsonAsync(await _api.PostAsync("/api/v1/domains/shop.test/verify", null)));
        var verified = await SetupApp.JsonAsync(await _api.PostAsync("/api/v1/domains/shop.test/verify", null));
        Assert.Equal("Verified", verified.GetProperty("status").GetString());
        await using (var scope = _setup.App.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<Core.Persistence.AppDbContext>();
            var address = await db.Addresses.FindAsync(Guid.Parse(after));
            address!.Forwarding = Core.Addresses.ForwardingStatus.Confirmed;
            address.LastReceivedAt = DateTimeOffset.UtcNow;
            await db.SaveChangesAsync();
        }
        (await _api.PostAsJsonAsync($"/api/v1/addresses/{after}/test", new { to = "dana@example.org" })).EnsureSuccessStatusCode();
        var bot = await SetupApp.JsonAsync(await _api.PostAsJsonAsync("/api/v1/bots", new { name = "Shop help" }));
        (await _api.PutAsJsonAsync($"/api/v1/bots/{bot.GetProperty("id").GetString()}/email", new { addressId = after })).EnsureSuccessStatusCode();

        foreach (var (width, height, theme) in Screens.LaptopAndPhone)
        {
            await using var browser = await BrowserPage.OpenAsync(chromium.Browser, _setup.App.ServerAddress, width, height, theme);
            await browser.RunAsync(async () =>
            {
                await browser.SignInAsync(TestApp.AdminEmail, TestApp.AdminPassword, "/setup/new");
                await Assertions.Expect(browser.Page.Locator("[data-ready]")).ToHaveAttributeAsync("data-ready", "true");
                await browser.ScreenshotAsync($"setup-honest-step1-new-{theme}-{width}");
                foreach (var (name, id) in new[] { ("before", before), ("after", after) })
                {
                    for (var step = 1; step <= 6; step++)
                    {
                        await browser.Page.GotoAsync($"/setup/addresses/{id}?step={step}");
                        await Assertions.Expect(browser.Page.Locator("[data-ready]")).ToHaveAttributeAsync("data-ready", "true");
                        if (step >= 5)
                            await Assertions.Expect(browser.Page.Locator(".mud-stepper-content .mud-progress-linear")).ToHaveCountAsync(0);
                        await browser.AssertFitsWindowAsync($"Step {step} ({name}, {theme}, {width})");
                        await browser.ScreenshotAsync($"setup-honest-step{step}-{name}-{theme}-{width}");
                    }
                }
                await Assertions.Expect(browser.Page.GetByTestId("live-title")).ToHaveTextAsync("help@shop.test is live");
            });
        }
    }
}
