using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using ConnectiveOne.Core.Accounts;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace ConnectiveOne.Tests.Browser;

/// <summary>Sign-in, roles and first run, as a person sees them in Chromium.</summary>
[Collection(BrowserPagesCollection.Name)]
public sealed class AccountBrowserTests(ChromiumFixture chromium, ITestOutputHelper output)
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
    public async Task A_demoted_admins_open_page_goes_to_sign_in_and_comes_back_without_admin_rights()
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

            // A role change ends the open session like a new password: the page goes to sign-in.
            await Assertions.Expect(second.Page).ToHaveURLAsync(new Regex("/account/login"));
            await second.SignInAsync("second@example.test", "second-password-1");
            await Assertions.Expect(NavLink(second, "Inbox")).ToBeVisibleAsync();
            await Assertions.Expect(NavLink(second, "Settings")).ToHaveCountAsync(0);
        });
    }

    [Fact]
    public async Task A_password_change_in_one_page_sends_the_users_other_page_to_sign_in_and_leaves_another_users_page()
    {
        await using var app = new TestApp().StartKestrel();
        await app.CreateUserWithTokenAsync("pat@example.test", "Operator", "pat-password-1");
        await app.CreateUserWithTokenAsync("sam@example.test", "Operator", "sam-password-1");
        await using var a = await BrowserPage.OpenAsync(chromium.Browser, app.ServerAddress);
        await using var b = await BrowserPage.OpenAsync(chromium.Browser, app.ServerAddress);
        await using var sam = await BrowserPage.OpenAsync(chromium.Browser, app.ServerAddress);
        // Page B of pat is the one that could otherwise still mint an API token after the change.
        await b.RunAsync(() => b.SignInAsync("pat@example.test", "pat-password-1", "/account/tokens"));
        await sam.RunAsync(() => sam.SignInAsync("sam@example.test", "sam-password-1", "/account/tokens"));

        var sinceClick = new Stopwatch();
        var sinceAnswer = new Stopwatch();
        await a.RunAsync(async () =>
        {
            await a.SignInAsync("pat@example.test", "pat-password-1");
            await a.GotoAsync("/account/password");
            await a.Page.FillAsync("input[name='Input.Current']", "pat-password-1");
            await a.Page.FillAsync("input[name='Input.New']", "pat-password-2");
            await a.Page.FillAsync("input[name='Input.Confirm']", "pat-password-2");
            sinceClick.Start();
            await a.Page.GetByRole(AriaRole.Button, new() { Name = "Change password" }).ClickAsync();
            await Assertions.Expect(a.Page.GetByTestId("password-result")).ToContainTextAsync("Your password has been changed.");
            sinceAnswer.Start();
            await a.ScreenshotAsync("password-changed");
        });

        await b.RunAsync(async () =>
        {
            // The bound is 5 s from the change, which is made by the time page A shows its answer (the click
            // also counts the password hashes, slow on a busy machine). The wait is longer so a failure says how long.
            await Assertions.Expect(b.Page).ToHaveURLAsync(new Regex("/account/login"), new() { Timeout = 60_000 });
            var took = sinceAnswer.Elapsed;
            output.WriteLine($"Page B was at sign-in {took.TotalSeconds:F2} s after page A showed the change ({sinceClick.Elapsed.TotalSeconds:F2} s after the click).");
            Assert.True(took <= TimeSpan.FromSeconds(5), $"Page B went to sign-in {took.TotalSeconds:F1} s after the change (bound 5 s).");
        });

        // Sam's page passes a fresh session check (creating a token asks for one) and stays; so does pat's page A.
        await sam.RunAsync(async () =>
        {
            await sam.Page.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
            await Assertions.Expect(sam.Page.GetByTestId("new-token")).ToBeVisibleAsync();
            Assert.EndsWith("/account/tokens", sam.Page.Url);
        });
        await a.RunAsync(async () =>
        {
            await a.GotoAsync("/account/tokens");
            await a.WaitInteractiveAsync();
            await Assertions.Expect(a.Page.GetByRole(AriaRole.Button, new() { Name = "Create token" })).ToBeVisibleAsync();
        });
    }

    [Fact]
    public async Task Wrong_passwords_are_refused_in_words_and_then_even_the_right_one_waits()
    {
        await using var app = new TestApp().StartKestrel();
        await using var browser = await BrowserPage.OpenAsync(chromium.Browser, app.ServerAddress);
        await browser.RunAsync(async () =>
        {
            for (var attempt = 1; attempt <= 6; attempt++)
            {
                await browser.GotoAsync("/account/login");
                await browser.Page.FillAsync("input[name='Input.Email']", TestApp.AdminEmail);
                await browser.Page.FillAsync("input[name='Input.Password']", attempt <= 5 ? "not-the-password" : TestApp.AdminPassword);
                await browser.Page.ClickAsync("button[type='submit']");
                await Assertions.Expect(browser.Page.GetByTestId("login-error")).ToHaveTextAsync(SignInGuard.Refused);
            }
            Assert.Contains("/account/login", browser.Page.Url);
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
