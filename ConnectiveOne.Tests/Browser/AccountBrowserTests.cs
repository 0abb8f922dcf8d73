using System.Net.Http.Json;
using System.Text.Json;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.Playwright;

namespace ConnectiveOne.Tests.Browser;

/// <summary>Sign-in, roles and first run, as a person sees them in Chromium.</summary>
[Collection(BrowserCollection.Name)]
public sealed class AccountBrowserTests(ChromiumFixture chromium)
{
    [Fact]
    public async Task The_first_admin_is_created_through_the_setup_link_and_the_link_then_dies()
    {
        await using var app = new TestApp(bootstrap: false).StartKestrel();
        var token = await WaitForSetupTokenAsync(app);
        // The link itself is printed on the console only (FirstRunConsoleTests reads it there); the log says where it is.
        var logs = await app.WaitForLogsAsync(until: log => log.Contains("printed on the console"), TimeSpan.FromSeconds(30));
        Assert.True(logs.Contains("printed on the console"), $"The log does not say where the setup link is ({app.DescribeLogFiles()}):\n{logs}");
        Assert.DoesNotContain(token, logs);

        await using var browser = await BrowserPage.OpenAsync(chromium.Browser, app.ServerAddress);
        await browser.RunAsync(async () =>
        {
            await browser.GotoAsync($"/setup/first-admin?token={token}");
            await browser.ScreenshotAsync("first-admin-light-1366");
            await browser.Page.FillAsync("input[name='Input.Email']", "first@example.test");
            await browser.Page.FillAsync("input[name='Input.Password']", "first-password-1");
            await browser.Page.FillAsync("input[name='Input.Confirm']", "first-password-1");
            await browser.Page.ClickAsync("button[type='submit']");
            await browser.WaitInteractiveAsync();
            await Assertions.Expect(browser.Page.GetByRole(AriaRole.Heading, new() { Name = "Hello, first@example.test" })).ToBeVisibleAsync();
            await Assertions.Expect(NavLink(browser, "Settings")).ToBeVisibleAsync();
        });

        await using var second = await BrowserPage.OpenAsync(chromium.Browser, app.ServerAddress);
        await second.RunAsync(async () =>
        {
            await second.GotoAsync($"/setup/first-admin?token={token}");
            await Assertions.Expect(second.Page.GetByTestId("setup-refused")).ToBeVisibleAsync();
            Assert.Equal(0, await second.Page.Locator("input[name='Input.Email']").CountAsync());
        });
    }

    [Fact]
    public async Task Admins_and_operators_see_their_own_navigation_and_operators_are_not_allowed_in_settings()
    {
        await using var app = new TestApp().StartKestrel();
        await app.CreateUserWithTokenAsync("operator@example.test", "Operator", "operator-password-1");

        await using var admin = await BrowserPage.OpenAsync(chromium.Browser, app.ServerAddress);
        await admin.RunAsync(async () =>
        {
            await admin.SignInAsync(TestApp.AdminEmail, TestApp.AdminPassword);
            foreach (var link in new[] { "Inbox", "Setup", "Bots", "Settings" })
                await Assertions.Expect(NavLink(admin, link)).ToBeVisibleAsync();
            await Assertions.Expect(admin.Page.GetByText("Admin", new() { Exact = true })).ToBeVisibleAsync();
            await admin.GotoAsync("/settings");
            await admin.WaitInteractiveAsync();
            await admin.Page.GetByRole(AriaRole.Tab, new() { Name = "Users" }).ClickAsync();
            await Assertions.Expect(admin.Page.GetByTestId("users-table")).ToContainTextAsync("operator@example.test");
        });

        await using var op = await BrowserPage.OpenAsync(chromium.Browser, app.ServerAddress);
        await op.RunAsync(async () =>
        {
            await op.SignInAsync("operator@example.test", "operator-password-1");
            await Assertions.Expect(NavLink(op, "Inbox")).ToBeVisibleAsync();
            Assert.Equal(0, await NavLink(op, "Settings").CountAsync());
            Assert.Equal(0, await NavLink(op, "Setup").CountAsync());

            var response = await op.Page.GotoAsync("/settings");
            Assert.Equal(403, response!.Status);
            await Assertions.Expect(op.Page.GetByTestId("not-allowed")).ToBeVisibleAsync();
        });
    }

    [Fact]
    public async Task A_demoted_admin_loses_admin_rights_in_the_open_page()
    {
        await using var app = new TestApp().StartKestrel();
        var api = app.CreateApiClient();
        var created = await api.PostAsJsonAsync("/api/v1/users", new { email = "second@example.test", password = "second-password-1", role = "Admin" });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

        await using var second = await BrowserPage.OpenAsync(chromium.Browser, app.ServerAddress);
        await second.RunAsync(async () =>
        {
            await second.SignInAsync("second@example.test", "second-password-1", "/settings");
            await second.WaitInteractiveAsync();
            await second.Page.GetByRole(AriaRole.Tab, new() { Name = "Users" }).ClickAsync();
            await Assertions.Expect(second.Page.GetByTestId("users-table")).ToBeVisibleAsync();

            (await api.PatchAsJsonAsync($"/api/v1/users/{id}", new { role = "Operator" })).EnsureSuccessStatusCode();

            // Same page, no reload: the admin page turns into "not allowed" and the admin links go.
            // The page and the menu each re-render on the new rights in their own render batch, so the
            // menu is awaited too rather than read once the page has changed.
            await Assertions.Expect(second.Page.GetByTestId("not-allowed")).ToBeVisibleAsync(new() { Timeout = 60_000 });
            await Assertions.Expect(NavLink(second, "Settings")).ToHaveCountAsync(0);
        });
    }

    [Fact]
    public async Task Wrong_passwords_are_refused_in_words_and_lock_the_account()
    {
        await using var app = new TestApp().StartKestrel();
        await using var browser = await BrowserPage.OpenAsync(chromium.Browser, app.ServerAddress);
        await browser.RunAsync(async () =>
        {
            for (var attempt = 1; attempt <= 5; attempt++)
            {
                await browser.GotoAsync("/account/login");
                await browser.Page.FillAsync("input[name='Input.Email']", TestApp.AdminEmail);
                await browser.Page.FillAsync("input[name='Input.Password']", "not-the-password");
                await browser.Page.ClickAsync("button[type='submit']");
                await Assertions.Expect(browser.Page.GetByTestId("login-error")).ToBeVisibleAsync();
            }
            await Assertions.Expect(browser.Page.GetByTestId("login-error")).ToContainTextAsync("locked");
        });
    }

    private static ILocator NavLink(BrowserPage browser, string name) =>
        browser.Page.Locator(".c1-nav a").Filter(new() { HasTextString = name });

    private static async Task<string> WaitForSetupTokenAsync(TestApp app)
    {
        var path = Path.Combine(app.DataDirectory, "setup-token");
        for (var i = 0; i < 100 && !File.Exists(path); i++)
            await Task.Delay(100);
        return (await File.ReadAllTextAsync(path)).Trim();
    }
}
