using System.Text.RegularExpressions;
using ConnectiveOne.Console.Features.Inbox;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using MimeKit;

namespace ConnectiveOne.Tests.Browser;

/// <summary>One app with three tickets (real SMTP) for the keyboard tests; each test signs in as its own user.</summary>
public sealed class KeyboardInboxApp : IAsyncLifetime
{
    public InboundApp Inbound { get; } = new(new Dictionary<string, string?> { ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain });
    public TestApp App => Inbound.App;
    public string Technical { get; private set; } = "";

    public async Task InitializeAsync()
    {
        App.StartKestrel();
        Technical = await MailSeed.AddressServedByBotAsync(App);
        foreach (var subject in new[] { "First printer question", "Second printer question", "Third printer question" })
            await SendAsync(subject);
    }

    public Task SendAsync(string subject)
    {
        var mail = new MimeMessage();
        mail.From.Add(new MailboxAddress("Carla Customer", "carla@customer.test"));
        mail.To.Add(MailboxAddress.Parse("support@acme.test"));
        mail.Subject = subject;
        mail.MessageId = $"{Guid.NewGuid():N}@customer.test";
        mail.Body = new TextPart("plain") { Text = "Hello, the printer is on fire." };
        return Inbound.SendAsync(mail, Technical);
    }

    public async Task DisposeAsync() => await Inbound.DisposeAsync();
}

/// <summary>The inbox by keyboard: every key of the ? overlay, Esc one level at a time, focus always visible, the live title.</summary>
[Collection(BrowserCollection.Name)]
[Trait("Database", "Sqlite")] // what the page shows and how it is operated, not the provider: API and integration tests cover both databases
public sealed class InboxKeyboardBrowserTests(ChromiumFixture chromium, KeyboardInboxApp fixture) : IClassFixture<KeyboardInboxApp>
{
    private TestApp App => fixture.App;

    [Fact]
    public async Task Every_key_in_the_overlay_does_its_job_Esc_steps_back_one_level_and_the_title_counts_unread()
    {
        await App.CreateUserWithTokenAsync("ann@example.test", "Operator", "ann-password-123");
        await using var ann = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress);
        var page = ann.Page;
        var rows = page.GetByTestId("ticket-row");
        var cursor = page.Locator(".c1-ticket-row.c1-cursor");
        var overlay = page.GetByTestId("keys-overlay");
        var reply = page.GetByTestId("reply-text");
        var tested = new List<string>();
        await ann.RunAsync(async () =>
        {
            await ann.SignInAsync("ann@example.test", "ann-password-123", "/inbox");
            await Assertions.Expect(rows).ToHaveCountAsync(3);

            // The title counts Ann's unread tickets, and follows new mail without a reload.
            await Assertions.Expect(page).ToHaveTitleAsync("(3) Inbox — ConnectiveOne");
            await fixture.SendAsync("Fourth printer question");
            await Assertions.Expect(page).ToHaveTitleAsync("(4) Inbox — ConnectiveOne");
            await Assertions.Expect(rows).ToHaveCountAsync(4);

            // ? lists the keys; the rest of this test presses each of them.
            await page.Keyboard.PressAsync("?");
            tested.Add("?");
            await Assertions.Expect(overlay).ToBeVisibleAsync();
            var listed = await page.GetByTestId("keys-overlay-key").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.key)");
            Assert.Equal(InboxKeys.All.Select(k => k.Code), listed);
            await ann.ScreenshotAsync("inbox-keys-overlay-light-1366");
            // The cursor stays on its ticket when mail arrives; the rows are newest first.
            var subjects = new[] { "Fourth", "Third", "Second", "First" };
            await Assertions.Expect(rows.First).ToContainTextAsync("Fourth");
            var cursorText = await cursor.InnerTextAsync();
            var at = Array.FindIndex(subjects, s => cursorText.Contains(s, StringComparison.Ordinal));
            Assert.InRange(at, 0, 1);
            await page.Keyboard.PressAsync("j"); // the overlay is on top: list keys wait
            await page.Keyboard.PressAsync("Escape");
            await Assertions.Expect(overlay).ToHaveCountAsync(0);
            await Assertions.Expect(cursor).ToContainTextAsync(subjects[at]);

            await page.Keyboard.PressAsync("j");
            await Assertions.Expect(cursor).ToContainTextAsync(subjects[at + 1]);
            await page.Keyboard.PressAsync("j");
            await Assertions.Expect(cursor).ToContainTextAsync(subjects[at + 2]);
            await page.Keyboard.PressAsync("k");
            await Assertions.Expect(cursor).ToContainTextAsync(subjects[at + 1]);
            tested.AddRange(["j", "k"]);

            await page.Keyboard.PressAsync("Enter");
            tested.Add("Enter");
            await Assertions.Expect(page.GetByTestId("ticket-view")).ToContainTextAsync($"{subjects[at + 1]} printer question");
            var ticketId = long.Parse(new Uri(page.Url).Segments[^1]);
            await Assertions.Expect(page).ToHaveTitleAsync($"(3) #{ticketId} · Inbox — ConnectiveOne");

            // r: the reply box, as a reply; keys typed there are text, not commands; Esc leaves the box, the ticket stays.
            await page.Keyboard.PressAsync("r");
            tested.Add("r");
            await Assertions.Expect(reply).ToBeFocusedAsync();
            await Assertions.Expect(page.GetByTestId("composer")).Not.ToHaveClassAsync(new Regex("c1-composer-note"));
            // Keys typed into the box are text (its value is the composer's: fast typing there can lose a letter to the
            // server's echo, so this checks that no key acted, after n below proved the page handled what came before).
            await page.Keyboard.TypeAsync("jeka?/");
            await page.Keyboard.PressAsync("Escape");
            await Assertions.Expect(reply).Not.ToBeFocusedAsync();
            await Assertions.Expect(page.GetByTestId("ticket-view")).ToBeVisibleAsync();
            await Assertions.Expect(overlay).ToHaveCountAsync(0);

            // n: the same box as an internal note.
            await page.Keyboard.PressAsync("n");
            tested.Add("n");
            await Assertions.Expect(page.GetByTestId("composer")).ToHaveClassAsync(new Regex("c1-composer-note"));
            await Assertions.Expect(reply).ToBeFocusedAsync();
            await page.Keyboard.PressAsync("Escape");
            await Assertions.Expect(reply).Not.ToBeFocusedAsync();

            // a and e change the ticket (the typed "e" and "a" above did not: it is still open and nobody's).
            var (before, annId) = await ReadTicketAsync(ticketId, "ann@example.test");
            Assert.Equal((TicketStatus.Open, (string?)null), (before.Status, before.AssigneeId));
            Assert.EndsWith($"/inbox/{ticketId}", page.Url);
            await Assertions.Expect(overlay).ToHaveCountAsync(0);
            await page.Keyboard.PressAsync("a");
            tested.Add("a");
            await MailSeed.WaitForAsync(App, db => db.Tickets.FindAsync(ticketId).AsTask(), t => t.AssigneeId == annId);
            await page.Keyboard.PressAsync("e");
            tested.Add("e");
            await MailSeed.WaitForAsync(App, db => db.Tickets.FindAsync(ticketId).AsTask(), t => t.Status == TicketStatus.Resolved);
            var status = page.GetByRole(AriaRole.Combobox, new() { Name = "Status" });
            await Assertions.Expect(status).ToContainTextAsync("Resolved");

            // s: the snooze menu, its first preset focused; Esc closes it and the ticket stays (SnoozeBrowserTests snoozes).
            await page.Keyboard.PressAsync("s");
            tested.Add("s");
            await Assertions.Expect(page.GetByTestId("snooze-preset").First).ToBeFocusedAsync();
            await page.Keyboard.PressAsync("Escape");
            await Assertions.Expect(page.GetByTestId("snooze-menu")).ToHaveCountAsync(0);
            await Assertions.Expect(page.GetByTestId("ticket-view")).ToBeVisibleAsync();

            // /: the search box; Esc leaves it.
            await page.Keyboard.PressAsync("/");
            tested.Add("/");
            var search = page.Locator("[data-testid='inbox-search'] input, input[data-testid='inbox-search']").First;
            await Assertions.Expect(search).ToBeFocusedAsync();
            await Assertions.Expect(search).ToHaveValueAsync("");
            await page.Keyboard.PressAsync("Escape");
            await Assertions.Expect(search).Not.ToBeFocusedAsync();

            // Esc steps back one level: an open select closes and the ticket stays; the overlay likewise; then the ticket closes.
            await status.ClickAsync();
            var popover = page.Locator(".mud-popover-open:not(.mud-tooltip)");
            await Assertions.Expect(popover).ToHaveCountAsync(1);
            await page.Keyboard.PressAsync("Escape");
            await Assertions.Expect(popover).ToHaveCountAsync(0);
            await Assertions.Expect(page.GetByTestId("ticket-view")).ToBeVisibleAsync();
            await page.EvaluateAsync("() => document.activeElement && document.activeElement.blur()"); // the select kept it
            await page.Keyboard.PressAsync("?");
            await Assertions.Expect(overlay).ToBeVisibleAsync();
            await page.Keyboard.PressAsync("Escape");
            await Assertions.Expect(overlay).ToHaveCountAsync(0);
            await Assertions.Expect(page.GetByTestId("ticket-view")).ToBeVisibleAsync();
            Assert.EndsWith($"/inbox/{ticketId}", page.Url);
            await page.Keyboard.PressAsync("Escape");
            tested.Add("Escape");
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("/inbox$"));
            await Assertions.Expect(page.GetByTestId("ticket-view")).ToHaveCountAsync(0);

            // g i: to the inbox from another page.
            await page.GetByRole(AriaRole.Link, new() { Name = "Overview" }).ClickAsync();
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("/$"));
            await page.Keyboard.PressAsync("g");
            await page.Keyboard.PressAsync("i");
            tested.Add("g i");
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("/inbox$"));
            await Assertions.Expect(rows).ToHaveCountAsync(3); // open tickets: the resolved one left the list
        });
        Assert.Equal(InboxKeys.All.Select(k => k.Code).Order(), tested.Order());
    }

    [Fact]
    public async Task Every_control_of_the_inbox_shows_where_the_focus_is()
    {
        foreach (var theme in new[] { "light", "dark" })
        {
            await using var admin = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress, theme: theme);
            var page = admin.Page;
            await admin.RunAsync(async () =>
            {
                await admin.SignInAsync(TestApp.AdminEmail, TestApp.AdminPassword, "/inbox");
                await Assertions.Expect(page.GetByTestId("ticket-row")).Not.ToHaveCountAsync(0);
                await page.EvaluateAsync(FocusProbe);
                var reached = new List<string>();
                var missing = new List<string>();
                for (var i = 0; i < 80; i++)
                {
                    await page.Keyboard.PressAsync("Tab");
                    var step = await page.EvaluateAsync<string[]>("() => window.c1Focus.step()");
                    if (step[1] == "missing")
                        missing.Add(step[0]);
                    if (step[1] != "first")
                        reached.Add(step[0]);
                    if (step[2] == "done")
                        break;
                }
                Assert.Contains(reached, r => r.Contains("status-tab", StringComparison.Ordinal));
                Assert.Contains(reached, r => r.Contains("ticket-row", StringComparison.Ordinal));
                Assert.Contains(reached, r => r.Contains("inbox-search", StringComparison.Ordinal) || r.Contains("input", StringComparison.Ordinal));

                // A menu's items: the account menu open, Down from item to item.
                await page.GetByTestId("account-menu-button").ClickAsync();
                await Assertions.Expect(page.GetByTestId("menu-change-password")).ToBeVisibleAsync();
                await page.Keyboard.PressAsync("ArrowDown");
                await page.EvaluateAsync("() => window.c1Focus.step()");
                await page.Keyboard.PressAsync("ArrowDown");
                var item = await page.EvaluateAsync<string[]>("() => window.c1Focus.step()");
                Assert.Matches("menu-|Change password|API tokens", item[0]);
                if (item[1] == "missing")
                    missing.Add(item[0]);
                Assert.True(missing.Count == 0, $"In the {theme} theme no visible focus on: " + string.Join(", ", missing));
                Assert.True(reached.Count >= 8, "Tab reached only: " + string.Join(", ", reached));
            });
        }
    }

    /// <summary>
    /// Tab by Tab: the element that had the focus is compared with itself once the focus moved on. Its outline or
    /// box-shadow (or a parent's, for controls drawn around a hidden input) must have changed, on a box that is shown.
    /// step() returns [element, "first"|"shown"|"missing", "done" once Tab came back to the page or the first element].
    /// </summary>
    private const string FocusProbe = """
        () => {
          const nodes = (el) => [el, el.parentElement, el.parentElement && el.parentElement.parentElement].filter(Boolean);
          const look = (el) => nodes(el).map((n) => {
            const cs = getComputedStyle(n), r = n.getBoundingClientRect();
            const shown = r.width > 1 && r.height > 1 && cs.visibility !== 'hidden' && cs.opacity !== '0';
            const ring = (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0 ? cs.outlineStyle + cs.outlineWidth + cs.outlineColor : '')
              + '|' + (cs.boxShadow === 'none' ? '' : cs.boxShadow);
            return { shown, ring };
          });
          const describe = (el) => el.tagName.toLowerCase()
            + (el.dataset.testid ? '[' + el.dataset.testid + ']' : el.closest('[data-testid]') ? ' in [' + el.closest('[data-testid]').dataset.testid + ']' : '')
            + ' "' + (el.getAttribute('aria-label') || el.textContent || el.getAttribute('placeholder') || '').trim().slice(0, 40) + '"';
          window.c1Focus = {
            prev: null, seen: null, first: null,
            step() {
              const el = document.activeElement;
              let verdict = 'first';
              if (this.prev === el) {
                verdict = 'same';
              } else if (this.prev) {
                const now = look(this.prev);
                verdict = this.seen.some((f, i) => f.shown && f.ring !== now[i].ring && f.ring !== '|') ? 'shown' : 'missing';
              }
              const name = this.prev ? describe(this.prev) : '';
              const done = !el || el === document.body || el === this.first;
              if (!this.first) this.first = el;
              this.prev = el; this.seen = el ? look(el) : null;
              return [name, verdict, done ? 'done' : ''];
            },
          };
          document.activeElement && document.activeElement.blur();
        }
        """;

    private async Task<(Ticket Ticket, string UserId)> ReadTicketAsync(long id, string email)
    {
        await using var scope = App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ConnectiveOne.Core.Persistence.AppDbContext>();
        return ((await db.Tickets.FindAsync(id))!, db.Users.Single(u => u.Email == email).Id);
    }
}
