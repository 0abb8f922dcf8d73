using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace ConnectiveOne.Tests.Browser;

/// <summary>What every open MudDialog of the console must pass: it fits the window (nothing cut off, no sideways
/// scrolling on a phone), axe finds nothing serious or critical in it, and a screenshot is kept for people to look at.</summary>
internal static class DialogChecks
{
    /// <summary>The open dialog named <paramref name="title"/>. MudDialog renders in the MudDialogProvider, outside the page
    /// content and without the attributes given to &lt;MudDialog&gt;, so it is found by its role and its title.</summary>
    public static ILocator Dialog(IPage page, string title) => page.GetByRole(AriaRole.Dialog, new() { Name = title });

    public static async Task CheckAsync(BrowserPage browser, ILocator dialog, string screenshot)
    {
        var page = browser.Page;
        var window = page.ViewportSize!;
        await browser.AssertFitsWindowAsync(screenshot);
        var box = await dialog.BoundingBoxAsync() ?? throw new Xunit.Sdk.XunitException($"{screenshot}: the dialog is not shown.");
        Assert.True(box.X >= 0 && box.X + box.Width <= window.Width + 0.5,
            $"{screenshot}: the dialog spans {box.X:0}..{box.X + box.Width:0}px of a {window.Width}px wide window.");
        // Its own content does not scroll sideways either (a chip or a long file name pushing it wider), once settled.
        const string scrollers = "d => [d, ...d.querySelectorAll('*')].filter(e => e.scrollWidth - e.clientWidth > 1 && !['visible', 'hidden', 'clip'].includes(getComputedStyle(e).overflowX))";
        var element = await dialog.ElementHandleAsync();
        try
        {
            await page.WaitForFunctionAsync($"d => ({scrollers})(d).length === 0", element, new() { Timeout = 10_000 });
        }
        catch (TimeoutException)
        {
            var inner = await dialog.EvaluateAsync<string[]>($"d => ({scrollers})(d).map(e => (e.scrollWidth - e.clientWidth) + 'px in ' + e.outerHTML.slice(0, 160))");
            Assert.Fail($"{screenshot}: something in the dialog scrolls sideways:\n" + string.Join("\n", inner));
        }
        await browser.ScreenshotAsync(screenshot);

        var result = await dialog.RunAxe();
        var serious = result.Violations.Where(v => v.Impact is "serious" or "critical")
            .Select(v => $"{v.Impact} {v.Id}: {v.Help} at {string.Join(", ", v.Nodes.Take(3).Select(n => n.Target))}").ToList();
        Assert.True(serious.Count == 0, $"{screenshot}: axe found serious or critical problems:\n" + string.Join("\n", serious));
    }
}
