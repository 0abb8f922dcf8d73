using System.Net.Http.Json;
using System.Text;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.TestSupport;
using Deque.AxeCore.Playwright;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using MimeKit;

namespace ConnectiveOne.Tests.Browser;

/// <summary>
/// Issue #16, snooze in Chromium with two operators (one app start for the class): Ann, whose browser is in New York's time
/// zone, snoozes one ticket with the key s and a preset and another by mouse with a custom time; Bob sees both leave his
/// Open list live and wait in Snoozed with their wake times. The app's clock then moves past the custom time (a clock
/// shifted from the real one, so everything else keeps running): the ticket comes back Open for Bob, with a notification
/// for Ann, its assignee. Ann ends the other snooze by hand. The menu is looked at in both themes at 1366×768 and 390×844,
/// with axe finding nothing serious while it is open.
/// </summary>
[Collection(BrowserCollection.Name)]
[Trait("Database", "Sqlite")] // the pages, live between operators; SnoozeTests and SnoozeApiTests cover both databases
public sealed class SnoozeBrowserTests(ChromiumFixture chromium) : IAsyncLifetime
{
    private const string AnnZone = "America/New_York";
    private readonly ShiftedClock _clock = new();
    private InboundApp _inbound = null!;
    private TestApp App => _inbound.App;

    public Task InitializeAsync()
    {
        _inbound = new InboundApp(new Dictionary<string, string?>
        {
            ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain,
            ["ConnectiveOne:Tickets:SnoozeCheckInterval"] = "00:00:00.2",
        });
        App.TestServices = services => services.AddSingleton<TimeProvider>(_clock);
        App.StartKestrel();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _inbound.DisposeAsync();

    [Fact]
    public async Task Ann_snoozes_by_key_and_by_mouse_Bob_sees_the_tickets_leave_and_one_come_back_when_its_time_comes()
    {
        var technical = await MailSeed.AddressServedByBotAsync(App);
        var annApi = App.CreateApiClient(await App.CreateUserWithTokenAsync("ann@example.test", "Operator", "ann-password-123"));
        await App.CreateUserWithTokenAsync("bob@example.test", "Operator", "bob-password-123");
        var byKey = await TicketOfAsync(await SendAsync(technical, "Call me back next week", "Please call me next week."));
        var byMouse = await TicketOfAsync(await SendAsync(technical, "Invoice due soon", "Remind me in an hour."));
        var annId = await ReadAsync(db => db.Users.Where(u => u.Email == "ann@example.test").Select(u => u.Id).SingleAsync());
        (await annApi.PatchAsJsonAsync($"/api/v1/tickets/{byMouse}", new { assigneeId = annId })).EnsureSuccessStatusCode();
        var zone = TimeZoneInfo.FindSystemTimeZoneById(AnnZone);

        await LookAtTheMenuAsync(byKey);

        await using var bob = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress);
        var bobRows = bob.Page.GetByTestId("ticket-row");
        await bob.RunAsync(async () =>
        {
            await bob.SignInAsync("bob@example.test", "bob-password-123", "/inbox");
            await Assertions.Expect(bobRows).ToHaveCountAsync(2);
            await Assertions.Expect(bob.Page.GetByTestId("count-snoozed")).ToHaveTextAsync("0");
        });

        await using var ann = await OpenInZoneAsync(1366, 768, "light");
        var page = ann.Page;
        await ann.RunAsync(async () =>
        {
            await ann.SignInAsync("ann@example.test", "ann-password-123", $"/inbox/{byKey}");
            await Assertions.Expect(page.GetByTestId("ticket-view")).ToContainTextAsync("next week");

            // s opens the menu with the presets in her zone, the first one focused; Enter takes it.
            var expected = SnoozePresets.For(_clock.GetUtcNow(), zone)[0];
            await page.Keyboard.PressAsync("s");
            var menu = page.GetByTestId("snooze-menu");
            await Assertions.Expect(menu).ToBeVisibleAsync();
            await Assertions.Expect(page.GetByTestId("snooze-zone")).ToContainTextAsync(AnnZone);
            var first = page.GetByTestId("snooze-preset").First;
            await Assertions.Expect(first).ToHaveAttributeAsync("data-preset", expected.Key);
            await Assertions.Expect(first).ToContainTextAsync(SnoozePresets.Describe(expected.Until, zone, _clock.GetUtcNow()));
            await Assertions.Expect(first).ToBeFocusedAsync();
            // Esc closes the menu only (the ticket stays); s opens it again.
            await page.Keyboard.PressAsync("Escape");
            await Assertions.Expect(menu).ToHaveCountAsync(0);
            Assert.EndsWith($"/inbox/{byKey}", page.Url);
            await page.Keyboard.PressAsync("s");
            await Assertions.Expect(first).ToBeFocusedAsync();
            await page.Keyboard.PressAsync("Enter");
            await Assertions.Expect(menu).ToHaveCountAsync(0);
            await Assertions.Expect(page.GetByTestId("ticket-snoozed")).ToContainTextAsync(SnoozePresets.Describe(expected.Until, zone, _clock.GetUtcNow()));
            await Assertions.Expect(page.GetByTestId("ticket-event").And(page.Locator("[data-kind='Snoozed']"))).ToContainTextAsync($"({AnnZone})");
        });
        var stored = await ReadAsync(db => db.Tickets.AsNoTracking().SingleAsync(t => t.Id == byKey));
        Assert.Equal(SnoozePresets.For(_clock.GetUtcNow(), zone)[0].Until, stored.SnoozedUntil);

        // Bob's Open list loses it live; the Snoozed tab counts it.
        await bob.RunAsync(async () =>
        {
            await Assertions.Expect(bobRows).ToHaveCountAsync(1);
            await Assertions.Expect(bob.Page.Locator($"[data-testid='ticket-row'][data-ticket='{byKey}']")).ToHaveCountAsync(0);
            await Assertions.Expect(bob.Page.GetByTestId("count-snoozed")).ToHaveTextAsync("1");
        });

        // By mouse: the clock button, a custom date and time an hour ahead on her wall clock.
        var wake = TimeZoneInfo.ConvertTime(_clock.GetUtcNow().AddHours(1).AddMinutes(1), zone);
        await ann.RunAsync(async () =>
        {
            await page.Locator($"[data-testid='ticket-row'][data-ticket='{byMouse}']").ClickAsync();
            await Assertions.Expect(page.GetByTestId("ticket-view")).ToContainTextAsync("Remind me in an hour");
            await page.GetByTestId("snooze-open").ClickAsync();
            // A time that has passed is refused in words and nothing changes.
            await page.GetByTestId("snooze-date").FillAsync(wake.AddDays(-2).ToString("yyyy-MM-dd"));
            await page.GetByTestId("snooze-time").FillAsync(wake.ToString("HH:mm"));
            await page.GetByTestId("snooze-custom").ClickAsync();
            await Assertions.Expect(page.GetByTestId("snooze-error")).ToContainTextAsync("has passed");
            await page.GetByTestId("snooze-date").FillAsync(wake.ToString("yyyy-MM-dd"));
            await page.GetByTestId("snooze-custom").ClickAsync();
            await Assertions.Expect(page.GetByTestId("snooze-menu")).ToHaveCountAsync(0);
            await Assertions.Expect(page.GetByTestId("ticket-snoozed")).ToContainTextAsync(wake.ToString("HH:mm"));
        });

        // Bob: the second one leaves too; the Snoozed tab shows both with their wake times.
        await bob.RunAsync(async () =>
        {
            await Assertions.Expect(bobRows).ToHaveCountAsync(0);
            await bob.Page.Locator("[data-tab='snoozed']").ClickAsync();
            await Assertions.Expect(bobRows).ToHaveCountAsync(2);
            await Assertions.Expect(bob.Page.GetByTestId("row-snoozed")).ToHaveCountAsync(2);
            await bob.ScreenshotAsync("snooze-list-light-1366");
        });

        // Its time comes: back Open for Bob, a notification for Ann (its assignee), "snooze ended" in her thread.
        _clock.Advance(TimeSpan.FromMinutes(62));
        await bob.RunAsync(async () =>
        {
            await Assertions.Expect(bobRows).ToHaveCountAsync(1);
            await Assertions.Expect(bob.Page.GetByTestId("count-snoozed")).ToHaveTextAsync("1");
            await bob.Page.GetByTestId("status-tab").First.ClickAsync();
            await Assertions.Expect(bob.Page.Locator($"[data-testid='ticket-row'][data-ticket='{byMouse}']")).ToHaveCountAsync(1);
        });
        await ann.RunAsync(async () =>
        {
            await Assertions.Expect(page.GetByTestId("ticket-snoozed")).ToHaveCountAsync(0);
            await Assertions.Expect(page.GetByTestId("ticket-event").And(page.Locator("[data-kind='SnoozeEnded']"))).ToContainTextAsync("snooze ended");
            // (Her bell also holds the two new tickets: she follows every bot.)
            await page.GetByTestId("notification-bell").GetByRole(AriaRole.Button).First.ClickAsync();
            await Assertions.Expect(page.GetByTestId("notification").Filter(new() { HasText = $"#{byMouse} is back from snooze" })).ToHaveCountAsync(1);
            await page.Keyboard.PressAsync("Escape");

            // Ann ends the other snooze by hand: back in Bob's Open list.
            await page.GotoAsync($"/inbox/{byKey}");
            await ann.WaitInteractiveAsync();
            await Assertions.Expect(page.GetByTestId("ticket-snoozed")).ToBeVisibleAsync();
            await page.GetByTestId("snooze-open").ClickAsync();
            await Assertions.Expect(page.GetByTestId("snooze-current")).ToBeVisibleAsync();
            await page.GetByTestId("snooze-end").ClickAsync();
            await Assertions.Expect(page.GetByTestId("ticket-snoozed")).ToHaveCountAsync(0);
        });
        await bob.RunAsync(async () =>
        {
            await Assertions.Expect(bobRows).ToHaveCountAsync(2);
            await Assertions.Expect(bob.Page.GetByTestId("count-snoozed")).ToHaveTextAsync("0");
        });
    }

    // The menu on a laptop and a phone (Screens: each size once, the themes taking turns): a screenshot to look at, axe
    // with it open, and its close button.
    private async Task LookAtTheMenuAsync(long ticketId)
    {
        var findings = new StringBuilder();
        foreach (var (width, height, theme) in Screens.LaptopAndPhone)
        {
            await using var ann = await OpenInZoneAsync(width, height, theme);
            await ann.RunAsync(async () =>
            {
                await ann.SignInAsync("ann@example.test", "ann-password-123", $"/inbox/{ticketId}");
                await ann.Page.GetByTestId("snooze-open").ClickAsync();
                var menu = ann.Page.GetByTestId("snooze-menu");
                await Assertions.Expect(menu).ToBeVisibleAsync();
                await Assertions.Expect(ann.Page.GetByTestId("snooze-zone")).ToContainTextAsync(AnnZone);
                var box = await menu.BoundingBoxAsync();
                Assert.InRange(box!.X, 0, width - box.Width);
                await ann.AssertFitsWindowAsync($"the snooze menu at {width}px ({theme})");
                await ann.ScreenshotAsync($"snooze-menu-{theme}-{width}");
                var result = await ann.Page.RunAxe();
                foreach (var violation in result.Violations.Where(v => v.Impact is "serious" or "critical"))
                    findings.AppendLine($"{theme} {width}: {violation.Id}: {violation.Help} — {string.Join(", ", violation.Nodes.Select(n => n.Target))}");
                await ann.Page.GetByTestId("snooze-close").ClickAsync();
                await Assertions.Expect(menu).ToHaveCountAsync(0);
            });
        }
        Assert.True(findings.Length == 0, "axe found serious or critical problems with the snooze menu open:\n" + findings);
        Assert.Null((await ReadAsync(db => db.Tickets.AsNoTracking().SingleAsync(t => t.Id == ticketId))).SnoozedUntil);
    }

    // Ann's browser in New York's zone, which the page reads at start (the server runs in UTC).
    private Task<BrowserPage> OpenInZoneAsync(int width, int height, string theme) =>
        BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress, width, height, theme, AnnZone);

    private async Task<string> SendAsync(string technical, string subject, string text)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Carla Customer", "carla@customer.test"));
        message.To.Add(MailboxAddress.Parse("support@acme.test"));
        message.Subject = subject;
        message.MessageId = $"{Guid.NewGuid():N}@customer.test";
        message.Body = new TextPart("plain") { Text = text };
        await _inbound.SendAsync(message, technical);
        return message.MessageId;
    }

    private async Task<long> TicketOfAsync(string messageId) =>
        await ReadAsync(db => db.Messages.Where(m => m.MessageIdHeader == messageId).Select(m => m.TicketId).SingleAsync());

    private async Task<T> ReadAsync<T>(Func<Core.Persistence.AppDbContext, Task<T>> read)
    {
        await using var db = App.Database.OpenContext();
        return await read(db);
    }

    /// <summary>The real clock moved forward on request: timers and everything else keep running in real time.</summary>
    private sealed class ShiftedClock : TimeProvider
    {
        private long _offsetTicks;

        public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

        public override DateTimeOffset GetUtcNow() => System.GetUtcNow().AddTicks(Interlocked.Read(ref _offsetTicks));
    }
}
