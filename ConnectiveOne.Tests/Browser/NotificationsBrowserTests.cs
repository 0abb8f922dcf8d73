using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using MimeKit;

namespace ConnectiveOne.Tests.Browser;

/// <summary>
/// The bell as an operator uses it: notifications of each kind arrive live, link to their ticket, are marked read one by
/// one or all at once, and stay so across a reload and on another device; the browser's permission is asked from the
/// panel only, and desktop notifications appear only while the tab is hidden.
/// </summary>
[Collection(BrowserCollection.Name)]
[Trait("Database", "Sqlite")] // what the page shows and how it is operated: NotificationsTests covers both databases
public sealed class NotificationsBrowserTests(ChromiumFixture chromium) : IAsyncLifetime
{
    private readonly InboundApp _inbound = new(new Dictionary<string, string?> { ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain });
    private TestApp App => _inbound.App;
    private string _technical = "";

    // Records what the page shows through the Notification API and lets the test say whether the tab is hidden.
    private const string NotificationSpy = """
        (() => {
          const Real = window.Notification;
          window.__shown = [];
          window.__asked = 0;
          window.__hidden = false;
          class Spy extends Real {
            constructor(title, options) { window.__shown.push({ title, body: options && options.body }); super(title, options); }
          }
          Object.defineProperty(Spy, 'permission', { get: () => Real.permission });
          Spy.requestPermission = (...args) => { window.__asked++; return Real.requestPermission(...args); };
          window.Notification = Spy;
          Object.defineProperty(document, 'hidden', { configurable: true, get: () => window.__hidden });
        })();
        """;

    public async Task InitializeAsync()
    {
        App.StartKestrel();
        _technical = await MailSeed.AddressServedByBotAsync(App);
    }

    public async Task DisposeAsync() => await _inbound.DisposeAsync();

    [Fact]
    public async Task Each_kind_arrives_live_links_its_ticket_is_read_and_stays_read_across_reload_and_devices_and_shows_on_the_desktop_only_when_hidden()
    {
        await App.CreateUserWithTokenAsync("ann@example.test", "Operator", "ann-password-123");
        var bob = App.CreateApiClient(await App.CreateUserWithTokenAsync("bob@example.test", "Operator", "bob-password-123"));
        var annId = await UserIdAsync("ann@example.test");
        var bobId = await UserIdAsync("bob@example.test");
        await using var ann = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress);
        await ann.Page.AddInitScriptAsync(NotificationSpy);
        var page = ann.Page;
        var count = page.GetByTestId("notification-count").Locator(".mud-badge");
        var items = page.GetByTestId("notification");
        await ann.RunAsync(async () =>
        {
            await ann.SignInAsync("ann@example.test", "ann-password-123", "/inbox");
            await Assertions.Expect(count).ToHaveCountAsync(0);

            // The permission is asked only from the panel, once.
            await OpenPanelAsync(page);
            var ask = page.GetByTestId("notifications-permission");
            await Assertions.Expect(ask).ToBeVisibleAsync();
            Assert.Equal(0, await page.EvaluateAsync<int>("() => window.__asked"));
            await page.Context.GrantPermissionsAsync(["notifications"]);
            await ask.ClickAsync();
            await Assertions.Expect(ask).ToHaveCountAsync(0);
            Assert.Equal(1, await page.EvaluateAsync<int>("() => window.__asked"));

            // New ticket in the bot Ann follows (by default), while her tab is hidden: shown on the desktop too.
            await page.EvaluateAsync("() => window.__hidden = true");
            await SendAsync("Printer on fire", "Help, please.");
            await Assertions.Expect(count).ToHaveTextAsync("1");
            var ticketId = await TicketIdAsync("Printer on fire");
            await page.WaitForFunctionAsync("() => window.__shown.length === 1");
            Assert.Contains($"New ticket #{ticketId}", await page.EvaluateAsync<string>("() => window.__shown[0].body"));

            // Visible again: Bob assigns it to her, the bell counts it, the desktop shows nothing more.
            await page.EvaluateAsync("() => window.__hidden = false");
            (await bob.PatchAsJsonAsync($"/api/v1/tickets/{ticketId}", new { assigneeId = annId })).EnsureSuccessStatusCode();
            await Assertions.Expect(count).ToHaveTextAsync("2");
            // The customer answers on her ticket; Bob names her in a note.
            await SendAsync("Re: Printer on fire", "Still burning.");
            await Assertions.Expect(count).ToHaveTextAsync("3");
            await using (var scope = App.Services.CreateAsyncScope())
                await scope.ServiceProvider.GetRequiredService<TicketCommands>().AddNoteAsync(ticketId, "@ann@example.test please call them", bobId);
            await Assertions.Expect(count).ToHaveTextAsync("4");
            Assert.Equal(1, await page.EvaluateAsync<int>("() => window.__shown.length"));

            await OpenPanelAsync(page);
            await Assertions.Expect(items).ToHaveCountAsync(4);
            Assert.Equal(["mention", "customerReply", "assigned", "newTicket"], await items.EvaluateAllAsync<string[]>("e => e.map(i => i.dataset.kind)"));
            Assert.All(await items.EvaluateAllAsync<string[]>("e => e.map(i => i.dataset.ticket)"), t => Assert.Equal(ticketId.ToString(), t));
            await ann.ScreenshotAsync("notifications-open-light-1366");

            // One opened: its ticket, read; the count follows.
            await items.Filter(new() { HasText = "mentioned you" }).ClickAsync();
            await Assertions.Expect(page).ToHaveURLAsync(new Regex($"/inbox/{ticketId}$"));
            await Assertions.Expect(count).ToHaveTextAsync("3");

            // Ann's own note naming Bob, through the name picker: Bob is told, Ann is not.
            await page.GetByTestId("note-switch").ClickAsync();
            await page.GetByTestId("reply-text").FillAsync("Toner ordered.");
            await page.GetByTestId("mention-picker").GetByRole(AriaRole.Button).ClickAsync();
            await page.GetByTestId("mention-option").Filter(new() { HasText = "bob@example.test" }).ClickAsync();
            await Assertions.Expect(page.GetByTestId("reply-text")).ToHaveValueAsync("Toner ordered. @bob@example.test ");
            await page.GetByTestId("send-reply").ClickAsync();
            await Assertions.Expect(page.GetByTestId("ticket-view")).ToContainTextAsync("Toner ordered.");
            var bobs = await PollAsync(bob, list => list.Any(n => n.GetProperty("kind").GetString() == "mention"));
            Assert.Contains(bobs, n => n.GetProperty("kind").GetString() == "mention" && n.GetProperty("ticketId").GetInt64() == ticketId);

            // Across a reload: still three unread, the opened one read.
            await page.ReloadAsync();
            await ann.WaitInteractiveAsync();
            await Assertions.Expect(count).ToHaveTextAsync("3");
            await OpenPanelAsync(page);
            await Assertions.Expect(items).ToHaveCountAsync(4); // her own note told her nothing
            await Assertions.Expect(items.First).ToHaveAttributeAsync("data-unread", "false");

            // Another device of Ann's follows when she marks all read here; so does a reload.
            await using var other = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress, 390, 844);
            await other.SignInAsync("ann@example.test", "ann-password-123", "/inbox");
            var otherCount = other.Page.GetByTestId("notification-count").Locator(".mud-badge");
            await Assertions.Expect(otherCount).ToHaveTextAsync("3");
            await page.GetByTestId("notifications-mark-all").ClickAsync();
            await Assertions.Expect(count).ToHaveCountAsync(0);
            await Assertions.Expect(otherCount).ToHaveCountAsync(0);
            await page.ReloadAsync();
            await ann.WaitInteractiveAsync();
            await OpenPanelAsync(page);
            await Assertions.Expect(items).ToHaveCountAsync(4);
            await Assertions.Expect(count).ToHaveCountAsync(0);
            Assert.All(await items.EvaluateAllAsync<string[]>("e => e.map(i => i.dataset.unread)"), u => Assert.Equal("false", u));
        });
    }

    [Fact]
    public async Task The_panel_open_at_laptop_and_phone_width_does_not_scroll_sideways()
    {
        await App.CreateUserWithTokenAsync("ann@example.test", "Operator", "ann-password-123");
        await SendAsync("Printer on fire, and the paper tray makes a noise like a small aircraft taking off", "Help, please.");
        await SendAsync("Invoice 4711", "Wrong amount.");
        var shown = 2;
        foreach (var (width, height, theme) in Screens.LaptopAndPhone)
        {
            var expected = ++shown;
            await using var ann = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress, width, height, theme);
            await ann.RunAsync(async () =>
            {
                await ann.SignInAsync("ann@example.test", "ann-password-123", "/inbox");
                await SendAsync($"New question at {width}px {theme}", "Hello.");
                await Assertions.Expect(ann.Page.GetByTestId("notification-count").Locator(".mud-badge")).ToHaveTextAsync(expected.ToString());
                await OpenPanelAsync(ann.Page);
                await Assertions.Expect(ann.Page.GetByTestId("notification")).ToHaveCountAsync(expected);
                await ann.AssertFitsWindowAsync($"{width}px ({theme})");
                var panel = await ann.Page.GetByTestId("notifications-panel").BoundingBoxAsync();
                Assert.InRange(panel!.X, 0, width - panel.Width);
                await ann.ScreenshotAsync($"notifications-open-{theme}-{width}");
            });
        }
    }

    // The bell's button toggles the panel: pressed only when the panel is closed.
    private static async Task OpenPanelAsync(IPage page)
    {
        var panel = page.GetByTestId("notifications-panel");
        if (!await panel.IsVisibleAsync())
            await page.GetByTestId("notification-bell").GetByRole(AriaRole.Button).First.ClickAsync();
        await Assertions.Expect(panel).ToBeVisibleAsync();
    }

    private Task SendAsync(string subject, string text)
    {
        var mail = new MimeMessage { Subject = subject, MessageId = $"{Guid.NewGuid():N}@customer.test" };
        mail.From.Add(new MailboxAddress("Carla Customer", "carla@customer.test"));
        mail.To.Add(MailboxAddress.Parse("support@acme.test"));
        mail.Body = new TextPart("plain") { Text = text };
        return _inbound.SendAsync(mail, _technical);
    }

    private async Task<long> TicketIdAsync(string subject)
    {
        await using var scope = App.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<AppDbContext>().Tickets.AsNoTracking().SingleAsync(t => t.Subject == subject)).Id;
    }

    private async Task<string> UserIdAsync(string email)
    {
        await using var scope = App.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<AppDbContext>().Users.AsNoTracking().SingleAsync(u => u.Email == email)).Id;
    }

    private static async Task<List<JsonElement>> PollAsync(HttpClient client, Func<List<JsonElement>, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var list = (await client.GetFromJsonAsync<List<JsonElement>>("/api/v1/notifications"))!;
            if (done(list) || DateTime.UtcNow > deadline)
                return list;
            await Task.Delay(100);
        }
    }
}
