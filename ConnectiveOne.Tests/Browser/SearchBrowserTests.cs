using System.Text.RegularExpressions;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.Playwright;
using MimeKit;

namespace ConnectiveOne.Tests.Browser;

/// <summary>The inbox search box in Chromium: <c>/</c> focuses it, the query lives in the URL, snippets are marked.</summary>
[Collection(BrowserCollection.Name)]
public sealed class SearchBrowserTests(ChromiumFixture chromium) : IAsyncLifetime
{
    private readonly InboundApp _inbound = new(new Dictionary<string, string?> { ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain });
    private TestApp App => _inbound.App;

    public Task InitializeAsync()
    {
        App.StartKestrel();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _inbound.DisposeAsync();

    private static MimeMessage Mail(string subject, string text)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Carla Customer", "carla@customer.test"));
        message.To.Add(MailboxAddress.Parse("support@acme.test"));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = text };
        return message;
    }

    [Fact]
    public async Task Slash_focuses_the_search_the_url_keeps_it_and_snippets_mark_the_words()
    {
        var technical = await MailSeed.AddressServedByBotAsync(App);
        await _inbound.SendAsync(Mail("Printer jam on floor 3", "The toner is empty <again> & the tray sticks."), technical);
        await _inbound.SendAsync(Mail("Invoice question", "Please resend the invoice for March."), technical);

        await using var page = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress);
        await page.RunAsync(async () =>
        {
            await page.SignInAsync(TestApp.AdminEmail, TestApp.AdminPassword, "/inbox?q=toner");
            var rows = page.Page.GetByTestId("ticket-row");
            await Assertions.Expect(rows).ToHaveCountAsync(1);
            await Assertions.Expect(rows.First).ToContainTextAsync("Printer jam on floor 3");
            var snippet = page.Page.GetByTestId("ticket-snippet").First;
            await Assertions.Expect(snippet.Locator("mark")).ToHaveTextAsync("toner");
            // The customer's angle brackets are text, not markup.
            await Assertions.Expect(snippet).ToContainTextAsync("empty <again> & the tray");
            await page.ScreenshotAsync("inbox-search-light-1366");

            // A reload keeps the search.
            await page.Page.ReloadAsync();
            await Assertions.Expect(rows).ToHaveCountAsync(1);
            await Assertions.Expect(rows.First).ToContainTextAsync("Printer jam on floor 3");

            // "/" focuses the box; what is typed there goes into the URL.
            // The key handler is attached once the page is interactive, shortly after the page shows: press until it is.
            await page.WaitInteractiveAsync();
            var box = page.Page.Locator("input[data-testid='inbox-search'], [data-testid='inbox-search'] input").First;
            for (var attempt = 0; !await box.EvaluateAsync<bool>("e => document.activeElement === e"); attempt++)
            {
                Assert.True(attempt < 100, "“/” never focused the search box.");
                await page.Page.Keyboard.PressAsync("/");
                await page.Page.WaitForTimeoutAsync(100);
            }
            Assert.Equal("toner", await box.InputValueAsync()); // "/" moved the focus, it typed nothing
            await box.FillAsync("invoice");
            await Assertions.Expect(page.Page).ToHaveURLAsync(new Regex(@"/inbox\?q=invoice$"));
            await Assertions.Expect(rows).ToHaveCountAsync(1);
            await Assertions.Expect(rows.First).ToContainTextAsync("Invoice question");

            // A malformed search says what is wrong.
            await box.FillAsync("colour:red");
            await Assertions.Expect(page.Page.GetByTestId("inbox-error")).ToContainTextAsync("not a search operator");
        });
    }
}
