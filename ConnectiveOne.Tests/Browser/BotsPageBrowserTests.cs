using System.Net.Http.Json;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.Playwright;

namespace ConnectiveOne.Tests.Browser;

/// <summary>
/// The bots page in Chromium against the real app: create a bot, pick an address another bot holds, and read how to
/// free it.
/// </summary>
[Collection(BrowserPagesCollection.Name)]
[Trait("Database", "Sqlite")] // what the page shows and how it is operated, not the provider: API and integration tests cover both databases
public sealed class BotsPageBrowserTests(ChromiumFixture chromium) : IAsyncLifetime
{
    private readonly TestApp _app = new();

    public Task InitializeAsync()
    {
        _app.StartKestrel();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Theory]
    [InlineData(1366, 768)]
    [InlineData(390, 844)]
    public async Task Choosing_an_address_another_bot_holds_explains_how_to_free_it(int width, int height)
    {
        var support = await MailSeed.AddressAsync(_app, "support@acme.test", DomainStatus.Verified);
        await MailSeed.AddressAsync(_app, "help@pending.test", DomainStatus.Pending);
        // Kestrel serves the app here, so the API client talks to the real socket too.
        using var api = new HttpClient { BaseAddress = new Uri(_app.ServerAddress) };
        api.DefaultRequestHeaders.Authorization = new("Bearer", TestApp.AdminToken);
        var frontDesk = await (await api.PostAsJsonAsync("/api/v1/bots", new { name = "Front desk" })).Content.ReadFromJsonAsync<Bot>();
        (await api.PutAsJsonAsync($"/api/v1/bots/{frontDesk!.Id}/email", new { addressId = support.Id })).EnsureSuccessStatusCode();

        await using var browser = await BrowserPage.OpenAsync(chromium.Browser, _app.ServerAddress, width, height);
        var page = browser.Page;
        await browser.SignInAsync(TestApp.AdminEmail, TestApp.AdminPassword, "/bots");
        await page.GetByLabel("New bot").FillAsync("Billing");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create bot" }).ClickAsync();
        var billing = page.Locator(".c1-bot").Filter(new() { HasText = "Billing" });
        await billing.GetByText("Email channel").ClickAsync();
        await billing.Locator(".mud-select").First.ClickAsync();
        var unverified = page.Locator(".mud-popover-open .mud-list-item", new() { HasText = "help@pending.test" });
        await Assertions.Expect(unverified).ToContainTextAsync("Not verified");
        await Assertions.Expect(unverified).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("mud-list-item-disabled"));
        await browser.ScreenshotAsync($"bots-dropdown-{width}");
        await page.Locator(".mud-popover-open .mud-list-item", new() { HasText = "support@acme.test" }).ClickAsync();
        await billing.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();

        await Assertions.Expect(billing.Locator(".mud-alert-message"))
            .ToHaveTextAsync("support@acme.test is used by the bot Front desk. Remove the email channel from bot Front desk, then choose it here.");
        await browser.ScreenshotAsync($"bots-409-{width}");
    }

    private sealed record Bot(Guid Id, string Name, Guid? EmailAddressId);
}
