using ConnectiveOne.Tests.TestSupport;
using Microsoft.Playwright;

namespace ConnectiveOne.Tests.Browser;

/// <summary>
/// The wizard in Chromium against the real app, with DNS answered by a real server on loopback. The background
/// re-check runs every second here (options), so the page must change by itself, without reload.
/// </summary>
[Collection(BrowserPagesCollection.Name)]
[Trait("Database", "Sqlite")] // what the page shows and how it is operated, not the provider: API and integration tests cover both databases
public sealed class SetupWizardBrowserTests(ChromiumFixture chromium) : IAsyncLifetime
{
    private SetupApp _setup = null!;
    private BrowserPage _browser = null!;

    public async Task InitializeAsync()
    {
        _setup = SetupApp.Start(new Dictionary<string, string?>
        {
            ["PollInterval"] = "00:00:00.500",
            ["FastInterval"] = "00:00:01",
            ["VerifiedInterval"] = "00:00:01",
        });
        _setup.App.StartKestrel();
        _browser = await BrowserPage.OpenAsync(chromium.Browser, _setup.App.ServerAddress);
        await _browser.SignInAsync(TestApp.AdminEmail, TestApp.AdminPassword);
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        await _setup.DisposeAsync();
    }

    // MudTextField puts extra attributes on the input itself.
    private static ILocator EmailInput(IPage page) =>
        page.Locator("input[data-testid='add-email-input'], [data-testid='add-email-input'] input").First;

    // Typing before the circuit is up would go into the prerendered page and be lost.
    private static Task WaitInteractiveAsync(IPage page) =>
        Assertions.Expect(page.Locator("[data-ready]")).ToHaveAttributeAsync("data-ready", "true");

    [Fact]
    public async Task Adding_an_address_walks_the_steps_and_the_domain_turns_verified_without_reload()
    {
        var page = _browser.Page;
        try
        {
            await page.GotoAsync("/setup");
            await _browser.WaitInteractiveAsync(); // a click on the prerendered button would be lost
            await page.GetByTestId("add-email").ClickAsync();
            await page.WaitForURLAsync("**/setup/new");
            await WaitInteractiveAsync(page);

            // Invalid, then valid.
            await EmailInput(page).FillAsync("not-an-email");
            await page.GetByTestId("add-email-save").ClickAsync();
            await Assertions.Expect(page.GetByTestId("add-email-error")).ToContainTextAsync("is not an email address");
            await _browser.ScreenshotAsync("setup-1-add-email-invalid");
            await EmailInput(page).FillAsync("support@acme.test");
            await page.GetByTestId("add-email-save").ClickAsync();

            // Step 2: the technical address, filled into the instructions.
            await page.WaitForURLAsync("**/setup/addresses/*?step=2");
            var technical = await page.GetByTestId("technical-address").InnerTextAsync();
            Assert.Matches("^support-acme-test-[a-z2-7]{8}@inbound\\.example\\.net$", technical);
            await Assertions.Expect(page.GetByTestId("redirect-warning")).ToContainTextAsync("NOT \"forward as\"");
            await Assertions.Expect(page.GetByText("Redirect the message to")).ToBeVisibleAsync();
            await _browser.ScreenshotAsync("setup-2-forwarding");

            // Step 4 resumable by URL: pending, records not found yet.
            var addressUrl = page.Url.Split('?')[0];
            await page.GotoAsync(addressUrl + "?step=4");
            await WaitInteractiveAsync(page);
            await Assertions.Expect(page.GetByTestId("verify-now")).ToBeVisibleAsync();
            var chip = page.Locator("[data-testid='domain-status']").First;
            await Assertions.Expect(chip).ToHaveAttributeAsync("data-status", "Pending");
            await _browser.ScreenshotAsync("setup-4-verify-pending");

            // Publish the records the API returns; the worker sees them and the open page turns Verified by itself.
            using var api = new HttpClient { BaseAddress = new Uri(_setup.App.ServerAddress) };
            api.DefaultRequestHeaders.Authorization = new("Bearer", TestApp.AdminToken);
            var domain = await SetupApp.JsonAsync(await api.GetAsync("/api/v1/domains/acme.test"));
            _setup.Publish(domain);
            var marker = await page.EvaluateAsync<double>("() => window.__c1marker = Math.random()");
            await Assertions.Expect(chip).ToHaveAttributeAsync("data-status", "Verified", new() { Timeout = 30_000 });
            Assert.Equal(marker, await page.EvaluateAsync<double>("() => window.__c1marker")); // same document: no reload
            await _browser.ScreenshotAsync("setup-4-verify-verified");

            // A wrong DKIM key is noticed by the worker (the test schedule checks verified domains every second) and shown.
            var k1 = domain.GetProperty("records").EnumerateArray().First(r => r.GetProperty("host").GetString()!.StartsWith("k1.", StringComparison.Ordinal));
            var value = k1.GetProperty("value").GetString()!;
            _setup.Dns.SetTxt("k1._domainkey.acme.test", [.. ConnectiveOne.Core.Dns.TxtStrings.Split(value[..200])]);
            await Assertions.Expect(chip).ToHaveAttributeAsync("data-status", "Failed", new() { Timeout = 30_000 });
            await Assertions.Expect(page.GetByTestId("record-hint").First).ToBeVisibleAsync();
            await _browser.ScreenshotAsync("setup-4-verify-failed");
            await page.GotoAsync(addressUrl + "?step=3");
            await WaitInteractiveAsync(page);
            await _browser.ScreenshotAsync("setup-3-dns-records");
            await page.SetViewportSizeAsync(390, 844);
            await _browser.ScreenshotAsync("setup-3-dns-records-390");
            await page.SetViewportSizeAsync(1366, 768);
            _setup.Publish(domain);

            // A second address on the verified domain is verified at once.
            await page.GotoAsync("/setup/new");
            await WaitInteractiveAsync(page);
            await EmailInput(page).FillAsync("sales@acme.test");
            await page.GetByTestId("add-email-save").ClickAsync();
            await page.WaitForURLAsync("**/setup/addresses/*?step=2");
            await Assertions.Expect(page.Locator("[data-testid='domain-status']").First).ToHaveAttributeAsync("data-status", "Verified", new() { Timeout = 30_000 });
            await page.GotoAsync("/settings");
            await Assertions.Expect(page.GetByTestId("address-table")).ToContainTextAsync("sales@acme.test");
            await _browser.ScreenshotAsync("setup-settings-email-tab");
        }
        catch
        {
            await _browser.ScreenshotOnFailureAsync(nameof(Adding_an_address_walks_the_steps_and_the_domain_turns_verified_without_reload));
            throw;
        }
    }
}
