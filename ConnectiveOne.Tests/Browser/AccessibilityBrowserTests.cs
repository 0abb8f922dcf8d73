using System.Text;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Tests.TestSupport;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using MimeKit;

namespace ConnectiveOne.Tests.Browser;

/// <summary>
/// axe-core (Deque.AxeCore.Playwright) inside Chromium on the main pages, light and dark: no serious or critical
/// finding. One app, tickets by real SMTP, one sign-in per theme.
/// </summary>
[Collection(BrowserPagesCollection.Name)]
[Trait("Database", "Sqlite")] // what the page shows and how it is operated, not the provider: API and integration tests cover both databases
public sealed class AccessibilityBrowserTests(ChromiumFixture chromium) : IAsyncLifetime
{
    private InboundApp _inbound = null!;
    private TestApp App => _inbound.App;

    public Task InitializeAsync()
    {
        _inbound = new InboundApp(new Dictionary<string, string?> { ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain });
        App.StartKestrel();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _inbound.DisposeAsync();

    [Fact]
    public async Task The_main_pages_have_no_serious_or_critical_findings_in_either_theme()
    {
        var technical = await MailSeed.AddressServedByBotAsync(App);
        var wizardAddress = await MailSeed.AddressAsync(App, "sales@shop.test", DomainStatus.Pending);
        foreach (var subject in new[] { "Order 20931 arrived damaged", "Cannot log in since the update", "Refund still not received" })
        {
            var mail = new MimeMessage();
            mail.From.Add(new MailboxAddress("Dana Whitfield", "dana@example.org"));
            mail.To.Add(MailboxAddress.Parse("support@acme.test"));
            mail.Subject = subject;
            mail.Body = new TextPart("plain") { Text = "Hello,\nplease help.\nDana" };
            await _inbound.SendAsync(mail, technical);
        }

        var findings = new StringBuilder();
        foreach (var theme in new[] { "light", "dark" })
        {
            await using var anonymous = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress, theme: theme);
            await anonymous.RunAsync(async () =>
            {
                await anonymous.GotoAsync("/account/login");
                await CheckAsync(anonymous, $"login ({theme})", findings);
            });

            await using var browser = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress, theme: theme);
            await browser.RunAsync(async () =>
            {
                var page = browser.Page;
                await browser.SignInAsync(TestApp.AdminEmail, TestApp.AdminPassword, "/inbox");
                await Assertions.Expect(page.GetByTestId("ticket-row")).ToHaveCountAsync(3);
                await CheckAsync(browser, $"inbox ({theme})", findings);

                await page.GetByTestId("ticket-row").First.ClickAsync();
                await Assertions.Expect(page.GetByTestId("message")).ToHaveCountAsync(1);
                await CheckAsync(browser, $"ticket ({theme})", findings);

                await browser.GotoAsync("/setup/new");
                await browser.WaitInteractiveAsync();
                await Assertions.Expect(page.Locator("[data-ready]")).ToHaveAttributeAsync("data-ready", "true");
                await CheckAsync(browser, $"setup wizard, step 1 ({theme})", findings);
                await browser.GotoAsync($"/setup/addresses/{wizardAddress.Id}?step=2");
                await browser.WaitInteractiveAsync();
                await Assertions.Expect(page.GetByTestId("technical-address")).ToBeVisibleAsync();
                await CheckAsync(browser, $"setup wizard, forwarding step ({theme})", findings);

                // On a phone the steps are a vertical list and the current one, with its number, is on screen.
                await page.SetViewportSizeAsync(390, 844);
                var steps = await page.Locator(".c1-stepper .mud-stepper-nav > .mud-step").EvaluateAllAsync<double[][]>(
                    "steps => steps.map(s => { const r = s.getBoundingClientRect(); return [r.left, r.top, r.right, s.classList.contains('active') ? 1 : 0]; })");
                Assert.Equal(6, steps.Length);
                Assert.All(steps, s => Assert.Equal(steps[0][0], s[0], 1.0));
                Assert.True(steps.Zip(steps.Skip(1)).All(p => p.Second[1] > p.First[1]), "The steps are not one under the other.");
                var current = Assert.Single(steps, s => s[3] == 1);
                Assert.True(current[0] >= 0 && current[2] <= 390 && current[1] >= 0 && current[1] < 844, "The current step is off screen.");
                await Assertions.Expect(page.Locator(".c1-stepper .mud-step.active .mud-step-label-icon")).ToHaveTextAsync("2");
                await Assertions.Expect(page.Locator(".c1-stepper .mud-step.active")).ToContainTextAsync("Forwarding");
                await browser.AssertFitsWindowAsync("setup wizard on a phone");
                await browser.ScreenshotAsync($"setup-2-forwarding-{theme}-390");
                await page.SetViewportSizeAsync(1366, 768);

                await browser.GotoAsync("/settings");
                await browser.WaitInteractiveAsync();
                await Assertions.Expect(page.GetByTestId("address-table")).ToBeVisibleAsync();
                await CheckAsync(browser, $"settings ({theme})", findings);
            });
        }
        Assert.True(findings.Length == 0, "axe found serious or critical problems:\n" + findings);
    }

    /// <summary>Runs axe on the page as it is now and appends each serious or critical finding, with the elements.</summary>
    private static async Task CheckAsync(BrowserPage browser, string what, StringBuilder findings)
    {
        // Landmarks and a heading, beside axe's rules (which rate a missing main landmark only "moderate").
        var landmarks = await browser.Page.EvaluateAsync<int[]>(
            "['main', 'nav, [role=navigation]', 'h1', '.mud-appbar'].map(s => document.querySelectorAll(s).length)");
        if (landmarks[0] != 1 || landmarks[2] < 1 || landmarks[3] > 0 && landmarks[1] < 1)
            findings.AppendLine($"{what}: {landmarks[0]} main landmarks (want 1), {landmarks[1]} navigation landmarks, {landmarks[2]} h1 headings");
        var result = await browser.Page.RunAxe();
        foreach (var violation in result.Violations.Where(v => v.Impact is "serious" or "critical"))
        {
            findings.AppendLine($"{what}: {violation.Impact} {violation.Id}: {violation.Help}");
            foreach (var node in violation.Nodes.Take(5))
                findings.AppendLine($"    {node.Target} {Shorten(node.Html)}  — {Shorten(string.Join("; ", node.Any.Concat(node.All).Concat(node.None).Select(c => c.Message)))}");
        }
    }

    private static string Shorten(string? text) =>
        text is null ? "" : (text.Length > 220 ? text[..220] + "…" : text).ReplaceLineEndings(" ");
}
