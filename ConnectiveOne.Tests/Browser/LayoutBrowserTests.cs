using ConnectiveOne.Tests.TestSupport;

namespace ConnectiveOne.Tests.Browser;

/// <summary>
/// The shell and account pages at a laptop and a phone width (themes as <see cref="Screens"/> picks them): nothing scrolls sideways.
/// The screenshots land in test-artifacts/ for people to look at.
/// </summary>
[Collection(BrowserPagesCollection.Name)]
[Trait("Database", "Sqlite")] // what the page shows and how it is operated, not the provider: API and integration tests cover both databases
public sealed class LayoutBrowserTests(ChromiumFixture chromium)
{
    [Theory]
    [MemberData(nameof(Screens.LaptopAndPhoneData), MemberType = typeof(Screens))]
    public async Task Pages_fit_the_width_at_a_laptop_and_a_phone(int width, int height, string theme)
    {
        await using var app = new TestApp().StartKestrel();
        await app.CreateUserWithTokenAsync("operator@example.test", "Operator", "operator-password-1");
        var suffix = $"{theme}-{width}";

        await using var anonymous = await BrowserPage.OpenAsync(chromium.Browser, app.ServerAddress, width, height, theme);
        await anonymous.RunAsync(async () =>
        {
            await anonymous.GotoAsync("/account/login");
            await anonymous.AssertFitsWindowAsync("login");
            await anonymous.ScreenshotAsync($"login-{suffix}");
        });

        foreach (var (email, password, name) in new[]
                 {
                     (TestApp.AdminEmail, TestApp.AdminPassword, "admin"),
                     ("operator@example.test", "operator-password-1", "operator"),
                 })
        {
            await using var browser = await BrowserPage.OpenAsync(chromium.Browser, app.ServerAddress, width, height, theme);
            await browser.RunAsync(async () =>
            {
                await browser.SignInAsync(email, password);
                await browser.AssertFitsWindowAsync($"overview for {name}");
                await browser.ScreenshotAsync($"overview-{name}-{suffix}");
                await browser.GotoAsync("/inbox");
                await browser.WaitInteractiveAsync();
                await browser.AssertFitsWindowAsync($"inbox for {name}");
                await browser.ScreenshotAsync($"inbox-{name}-{suffix}");
                foreach (var page in name == "admin" ? new[] { "settings", "account/tokens" } : ["account/tokens"])
                {
                    await browser.GotoAsync("/" + page);
                    await browser.WaitInteractiveAsync();
                    await browser.AssertFitsWindowAsync($"{page} for {name}");
                    await browser.ScreenshotAsync($"{page.Replace('/', '-')}-{name}-{suffix}");
                }
            });
        }
    }

    [Fact]
    public async Task The_first_admin_page_fits_a_phone()
    {
        await using var app = new TestApp(bootstrap: false).StartKestrel();
        var tokenPath = Path.Combine(app.DataDirectory, "setup-token");
        for (var i = 0; i < 100 && !File.Exists(tokenPath); i++)
            await Task.Delay(100);
        foreach (var theme in new[] { "light", "dark" })
        {
            await using var browser = await BrowserPage.OpenAsync(chromium.Browser, app.ServerAddress, 390, 844, theme);
            await browser.RunAsync(async () =>
            {
                await browser.GotoAsync($"/setup/first-admin?token={(await File.ReadAllTextAsync(tokenPath)).Trim()}");
                await browser.AssertFitsWindowAsync("first admin");
                await browser.ScreenshotAsync($"first-admin-{theme}-390");
            });
        }
    }
}
