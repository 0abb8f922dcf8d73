using Microsoft.Playwright;

namespace ConnectiveOne.Tests.TestSupport;

/// <summary>
/// Debian's Chromium driven by Playwright against a <see cref="TestApp"/> started with Kestrel, signed in through the
/// real login form. Call <see cref="ScreenshotOnFailureAsync"/> from a catch block: the picture lands in <c>test-artifacts/</c>.
/// </summary>
public sealed class BrowserSession : IAsyncDisposable
{
    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private BrowserSession(IPlaywright playwright, IBrowser browser, IBrowserContext context, IPage page, string baseUrl)
    {
        _playwright = playwright;
        _browser = browser;
        Context = context;
        Page = page;
        BaseUrl = baseUrl;
    }

    public IBrowserContext Context { get; }
    public IPage Page { get; }
    public string BaseUrl { get; }

    public static async Task<BrowserSession> StartAsync(string baseUrl, int width = 1366, int height = 768)
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        });
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseUrl,
            ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        context.SetDefaultTimeout(30_000);
        return new BrowserSession(playwright, browser, context, await context.NewPageAsync(), baseUrl);
    }

    /// <summary>Signs in through <c>/account/login</c> and waits until the app has left the login page.</summary>
    public async Task SignInAsync(string email = TestApp.AdminEmail, string password = TestApp.AdminPassword)
    {
        await Page.GotoAsync("/account/login");
        await Page.FillAsync("input[name='Input.Email']", email);
        await Page.FillAsync("input[name='Input.Password']", password);
        await Page.ClickAsync("button[type='submit']");
        await Page.WaitForURLAsync(url => !url.Contains("/account/login", StringComparison.Ordinal));
    }

    /// <summary>Saves a full-page screenshot as <c>test-artifacts/&lt;name&gt;.png</c> and returns its path.</summary>
    public async Task<string> ScreenshotAsync(string name)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "test-artifacts");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $"{name}.png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }

    /// <summary>For catch blocks: a screenshot must never hide the original failure.</summary>
    public async Task ScreenshotOnFailureAsync(string testName)
    {
        try
        {
            await ScreenshotAsync($"{testName}-failure");
        }
        catch (PlaywrightException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Context.DisposeAsync();
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
