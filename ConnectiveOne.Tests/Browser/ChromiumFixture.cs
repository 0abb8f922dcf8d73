using ConnectiveOne.Tests.TestSupport;
using Microsoft.Playwright;

namespace ConnectiveOne.Tests.Browser;

/// <summary>
/// One headless Debian Chromium for all browser tests, driven by Playwright (which cannot download browsers
/// here). A missing Chromium fails the tests: ./test.sh installs it.
/// </summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    public static string ExecutablePath => Environment.GetEnvironmentVariable("CHROMIUM_PATH") ?? "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = default!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
            throw new InvalidOperationException(
                $"Chromium was not found at {ExecutablePath}. Run ./test.sh (it installs Debian's chromium) or set CHROMIUM_PATH.");
        _playwright = await Playwright.CreateAsync();
        // Expectations wait for live updates; give them room when the two cores are busy with other test classes.
        Assertions.SetDefaultExpectTimeout(15_000);
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            // No sandbox as root; no background traffic, which this closed network refuses anyway.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-quic", "--no-first-run"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
            await Browser.DisposeAsync();
        _playwright?.Dispose();
    }
}

/// <summary>
/// Browser tests of the inbox and the conversation. Tests within one collection run one after another (pages under
/// test compete for the same two cores); the browser tests are split in two collections so that they are not one
/// serial chain of nine minutes that alone sets the length of the whole run.
/// </summary>
[CollectionDefinition(Name)]
[RunsLong(110)]
public sealed class BrowserCollection : ICollectionFixture<ChromiumFixture>
{
    public const string Name = "browser";
}

/// <summary>Browser tests of the other pages: setup, account, layout, accessibility, bots; its own Chromium.</summary>
[CollectionDefinition(Name)]
[RunsLong(105)]
public sealed class BrowserPagesCollection : ICollectionFixture<ChromiumFixture>
{
    public const string Name = "browser-pages";
}
