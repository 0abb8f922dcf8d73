using System.Runtime.CompilerServices;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.Playwright;

namespace ConnectiveOne.Tests.Browser;

/// <summary>A fresh browser context (its own cookies) on the app under test, with sign-in and screenshots.</summary>
public sealed class BrowserPage(IBrowserContext context, IPage page, string baseUrl) : IAsyncDisposable
{
    /// <summary>Screenshots go here: on failure always, and on request for people to look at.</summary>
    public static string ArtifactsDirectory { get; } = Path.Combine(TestSupport.Repository.Root, "test-artifacts");

    public IPage Page => page;
    public string BaseUrl => baseUrl;

    /// <param name="timezoneId">The browser's time zone (IANA id); null for the machine's.</param>
    public static async Task<BrowserPage> OpenAsync(IBrowser browser, string baseUrl, int width = 1366, int height = 768,
        string theme = "light", string? timezoneId = null)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseUrl,
            ViewportSize = new ViewportSize { Width = width, Height = height },
            TimezoneId = timezoneId,
        });
        await context.AddCookiesAsync([new Cookie { Name = "c1-theme", Value = theme, Url = baseUrl }]);
        var page = await context.NewPageAsync();
        // Generous: in CI the browser shares two cores with SMTP storms and kill -9 loops of other test classes.
        page.SetDefaultTimeout(30_000);
        page.SetDefaultNavigationTimeout(60_000);
        return new BrowserPage(context, page, baseUrl);
    }

    public async Task GotoAsync(string path) => await page.GotoAsync(path);

    /// <summary>Waits until the Blazor circuit has rendered interactively (MainLayout marks the body).</summary>
    public Task WaitInteractiveAsync() => page.WaitForSelectorAsync("body[data-interactive='true']");

    public async Task SignInAsync(string email, string password, string returnPath = "/")
    {
        await page.GotoAsync($"/account/login?returnUrl={Uri.EscapeDataString(returnPath)}");
        await page.FillAsync("input[name='Input.Email']", email);
        await page.FillAsync("input[name='Input.Password']", password);
        await page.ClickAsync("button[type='submit']");
        await page.WaitForURLAsync(url => !url.Contains("/account/login"));
        await WaitInteractiveAsync();
    }

    /// <summary>
    /// Fails unless the page, once settled, is no wider than the window (no sideways scrolling). After a resize or a
    /// navigation the layout settles over a round trip (MudBlazor's responsive drawer closes through the circuit), so
    /// this waits up to 10 s for it; on failure it names the widest elements, so the message says where to look.
    /// </summary>
    public async Task AssertFitsWindowAsync(string what)
    {
        try
        {
            await page.WaitForFunctionAsync("() => document.documentElement.scrollWidth <= window.innerWidth", null, new() { Timeout = 10_000 });
        }
        catch (TimeoutException)
        {
            var overflow = await page.EvaluateAsync<int>("document.documentElement.scrollWidth - window.innerWidth");
            var wide = await page.EvaluateAsync<string[]>("() => [...document.body.querySelectorAll('*')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).sort((a, b) => b.getBoundingClientRect().right - a.getBoundingClientRect().right).slice(0, 5).map(e => e.outerHTML.slice(0, 160) + ' right=' + Math.round(e.getBoundingClientRect().right))");
            Assert.Fail($"{what}: the page is {overflow}px wider than the window:\n" + string.Join("\n", wide));
        }
    }

    /// <summary>
    /// Fails unless at least <paramref name="lines"/> lines of the reply box are in view: inside the composer's
    /// scrolling box and above its sticky row of buttons (which once covered all but one line of it on a laptop with
    /// To, Cc and Bcc open). Waits up to 10 s, as the composer settles over a round trip.
    /// </summary>
    public async Task AssertReplyBoxShowsAsync(int lines, string what)
    {
        const string shown = """
            () => {
              const box = document.getElementById('c1-reply-text');
              const composer = box && box.closest('.c1-composer');
              if (!composer) return -1;
              const b = box.getBoundingClientRect(), c = composer.getBoundingClientRect();
              const actions = composer.querySelector(':scope > .c1-composer-actions');
              const bottom = Math.min(b.bottom, c.bottom, actions ? actions.getBoundingClientRect().top : c.bottom, window.innerHeight);
              return (bottom - Math.max(b.top, c.top, 0)) / parseFloat(getComputedStyle(box).lineHeight);
            }
            """;
        try
        {
            await page.WaitForFunctionAsync($"() => ({shown})() >= {lines}", null, new() { Timeout = 10_000 });
        }
        catch (TimeoutException)
        {
            var seen = await page.EvaluateAsync<double>(shown);
            var sizes = await page.EvaluateAsync<string>("""
                () => [...document.querySelectorAll('.c1-ticket, .c1-ticket > *, .c1-composer > *')]
                  .map(e => `${e.className.toString().split(' ')[0] || e.tagName} ${Math.round(e.getBoundingClientRect().height)}/${e.scrollHeight}`).join(', ')
                """);
            Assert.Fail($"{what}: {seen:F1} lines of the reply box are in view, want at least {lines}. Heights (shown/whole): {sizes}");
        }
    }

    public async Task ScreenshotAsync(string name)
    {
        // The pages look the same on either database: the PostgreSQL pass would only redraw the SQLite pass's pictures.
        if (!TestDatabase.IsPostgres)
            await SaveScreenshotAsync(name);
    }

    private async Task SaveScreenshotAsync(string name)
    {
        Directory.CreateDirectory(ArtifactsDirectory);
        await page.ScreenshotAsync(new PageScreenshotOptions
        {
            Path = Path.Combine(ArtifactsDirectory, name + ".png"),
            FullPage = true,
            Animations = ScreenshotAnimations.Disabled, // a popover caught mid-fade looks transparent
        });
    }

    /// <summary>For catch blocks: a screenshot must never hide the original failure.</summary>
    public async Task ScreenshotOnFailureAsync(string test)
    {
        try
        {
            await SaveScreenshotAsync("FAILED-" + test);
        }
        catch (PlaywrightException)
        {
        }
    }

    /// <summary>Runs a browser step; on failure saves a screenshot named after the test before rethrowing.</summary>
    public async Task RunAsync(Func<Task> steps, [CallerMemberName] string test = "")
    {
        try
        {
            await steps();
        }
        catch
        {
            await ScreenshotOnFailureAsync(test);
            throw;
        }
    }

    public async ValueTask DisposeAsync() => await context.DisposeAsync();
}
