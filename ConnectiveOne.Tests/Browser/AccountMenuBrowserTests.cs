using ConnectiveOne.Tests.TestSupport;
using Microsoft.Playwright;

namespace ConnectiveOne.Tests.Browser;

/// <summary>
/// The account menu in the app bar: opened by mouse, by keyboard (Tab to it, Enter, arrow keys) and by a tap on a
/// phone, and each item followed to where it leads.
/// </summary>
[Collection(BrowserPagesCollection.Name)]
[Trait("Database", "Sqlite")] // what the page shows and how it is operated, not the provider: API and integration tests cover both databases
public sealed class AccountMenuBrowserTests(ChromiumFixture chromium)
{
    private const string Email = "olga@example.test";
    private const string Password = "olga-password-1";

    [Fact]
    public async Task The_menu_opens_by_mouse_and_keyboard_and_changes_the_password_reaches_tokens_and_signs_out()
    {
        await using var app = new TestApp().StartKestrel();
        await app.CreateUserWithTokenAsync(Email, "Operator", Password);
        await using var browser = await BrowserPage.OpenAsync(chromium.Browser, app.ServerAddress);
        var page = browser.Page;
        await browser.RunAsync(async () =>
        {
            await browser.SignInAsync(Email, Password);

            // Mouse: open, follow "Change password", change it there.
            await page.GetByTestId("account-menu-button").ClickAsync();
            await Assertions.Expect(page.GetByTestId("menu-change-password")).ToBeVisibleAsync();
            await browser.ScreenshotAsync("account-menu-light-1366");
            await page.GetByTestId("menu-change-password").ClickAsync();
            await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/account/password$"));
            await page.GetByLabel("Current password").FillAsync(Password);
            await page.GetByLabel("New password", new() { Exact = true }).FillAsync("olga-new-password-2");
            await page.GetByLabel("New password again").FillAsync("olga-new-password-2");
            await page.GetByRole(AriaRole.Button, new() { Name = "Change password" }).ClickAsync();
            await Assertions.Expect(page.GetByTestId("password-result")).ToContainTextAsync("Your password has been changed");

            // Keyboard, on the inbox (whose j/k/Enter keys must leave the menu's Enter alone): Tab reaches the
            // activator, Enter opens the menu on its first item, the arrow keys move, Enter follows.
            await OpenByKeyboardAsync(browser, "/inbox");
            await page.Keyboard.PressAsync("ArrowDown");
            await Assertions.Expect(page.GetByTestId("menu-api-tokens")).ToBeFocusedAsync();
            await page.Keyboard.PressAsync("Enter");
            await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/account/tokens$"));

            // Escape closes the menu onto its button; Enter opens it again on the first item.
            await OpenByKeyboardAsync(browser, "/");
            await page.Keyboard.PressAsync("Escape");
            await Assertions.Expect(page.GetByTestId("menu-change-password")).ToBeHiddenAsync();
            await Assertions.Expect(page.GetByTestId("account-menu-button")).ToBeFocusedAsync();
            await Assertions.Expect(page.GetByTestId("account-menu-button")).ToHaveAttributeAsync("aria-expanded", "false");
            await page.Keyboard.PressAsync("Enter");
            await Assertions.Expect(page.GetByTestId("menu-change-password")).ToBeFocusedAsync();
            await page.Keyboard.PressAsync("ArrowUp"); // wraps round to the last item
            await Assertions.Expect(page.GetByTestId("sign-out")).ToBeFocusedAsync();
            await page.Keyboard.PressAsync("Enter");
            await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/account/login"));

            // Signed out for real: the app sends the browser back to sign-in, where only the new password works.
            await page.GotoAsync("/inbox");
            await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/account/login"));
            await browser.SignInAsync(Email, "olga-new-password-2", "/inbox");
            await Assertions.Expect(page.GetByTestId("account-menu-button")).ToContainTextAsync(Email);
        });
    }

    public static TheoryData<int, int, string> Screens => new()
    {
        { 1366, 768, "dark" },
        { 390, 844, "light" },
        { 390, 844, "dark" },
    };

    [Theory]
    [MemberData(nameof(Screens))]
    public async Task A_tap_opens_the_menu_and_signs_out(int width, int height, string theme)
    {
        await using var app = new TestApp().StartKestrel();
        await app.CreateUserWithTokenAsync(Email, "Operator", Password);
        var context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = app.ServerAddress,
            ViewportSize = new ViewportSize { Width = width, Height = height },
            HasTouch = true,
            IsMobile = width < 600,
        });
        await context.AddCookiesAsync([new Cookie { Name = "c1-theme", Value = theme, Url = app.ServerAddress }]);
        await using var browser = new BrowserPage(context, await context.NewPageAsync(), app.ServerAddress);
        var page = browser.Page;
        await browser.RunAsync(async () =>
        {
            await browser.SignInAsync(Email, Password);
            await page.GetByTestId("account-menu-button").TapAsync();
            await Assertions.Expect(page.GetByTestId("sign-out")).ToBeVisibleAsync();
            await Assertions.Expect(page.GetByTestId("menu-api-tokens")).ToBeVisibleAsync();
            await browser.ScreenshotAsync($"account-menu-{theme}-{width}");
            await page.GetByTestId("sign-out").TapAsync();
            await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/account/login"));
            await page.GotoAsync("/");
            await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/account/login"));
        });
    }

    /// <summary>Opens <paramref name="path"/>, presses Tab until the account button has the focus, then Enter.</summary>
    private static async Task OpenByKeyboardAsync(BrowserPage browser, string path)
    {
        await browser.GotoAsync(path);
        await browser.WaitInteractiveAsync();
        var button = browser.Page.GetByTestId("account-menu-button");
        for (var i = 0; i < 40 && !await button.EvaluateAsync<bool>("b => b === document.activeElement"); i++)
            await browser.Page.Keyboard.PressAsync("Tab");
        await Assertions.Expect(button).ToBeFocusedAsync(new() { Timeout = 1 });
        await browser.Page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(browser.Page.GetByTestId("menu-change-password")).ToBeFocusedAsync();
    }
}
