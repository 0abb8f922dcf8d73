using System.Diagnostics;
using System.Net.Http.Json;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using MimeKit;

namespace ConnectiveOne.Tests.Browser;

/// <summary>One app for the drafts tests (started once): Ann (display name "Ann") and Bob, a bot with an address; tickets come per test by SMTP.</summary>
public sealed class DraftsApp : IAsyncLifetime
{
    public InboundApp Inbound { get; } = new(new Dictionary<string, string?> { ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain });
    public TestApp App => Inbound.App;
    private string _technical = "";

    public async Task InitializeAsync()
    {
        App.StartKestrel();
        _technical = await MailSeed.AddressServedByBotAsync(App);
        var ann = App.CreateApiClient(await App.CreateUserWithTokenAsync("ann@example.test", "Operator", "ann-password-123"));
        (await ann.PatchAsJsonAsync("/api/v1/users/me", new { displayName = "Ann" })).EnsureSuccessStatusCode();
        await App.CreateUserWithTokenAsync("bob@example.test", "Operator", "bob-password-123");
    }

    /// <summary>A new ticket from Carla, by SMTP; its id.</summary>
    public async Task<long> TicketAsync(string subject)
    {
        var mail = new MimeMessage();
        mail.From.Add(new MailboxAddress("Carla Customer", "carla@customer.test"));
        mail.To.Add(MailboxAddress.Parse("support@acme.test"));
        mail.Subject = subject;
        mail.MessageId = $"{Guid.NewGuid():N}@customer.test";
        mail.Body = new TextPart("plain") { Text = "Hello, where is my replacement part?" };
        await Inbound.SendAsync(mail, _technical);
        await using var db = App.Database.OpenContext();
        return db.Messages.Where(m => m.MessageIdHeader == mail.MessageId).Select(m => m.TicketId).Single();
    }

    /// <summary>Ann's draft on the ticket as the server has it (null: none).</summary>
    public async Task<DraftView?> AnnsDraftAsync(long ticketId)
    {
        await using var scope = App.Services.CreateAsyncScope();
        await using var db = App.Database.OpenContext();
        var ann = db.Users.Single(u => u.Email == "ann@example.test").Id;
        return await scope.ServiceProvider.GetRequiredService<TicketDrafts>().GetAsync(ann, ticketId);
    }

    public async Task DisposeAsync() => await Inbound.DisposeAsync();
}

/// <summary>
/// Issue #16 "Drafts" in Chromium: Ann's composer (text, Cc chips) is saved as she types and follows her into a second
/// browser signed in as her, live within the acceptance's 2 s; a reload restores it; Bob sees "Ann has a draft" beside
/// presence; the ticket list marks the row "Draft"; Discard draft and sending the reply clear it everywhere.
/// </summary>
[Collection(BrowserCollection.Name)]
[Trait("Database", "Sqlite")] // the pages, live between browsers; DraftsApiTests cover both databases
public sealed class DraftsBrowserTests(ChromiumFixture chromium, DraftsApp fixture, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<DraftsApp>
{
    private TestApp App => fixture.App;

    /// <summary>Issue #16, acceptance 3: "appears in another signed in as the same user within 2 s".</summary>
    private static readonly TimeSpan LiveBound = TimeSpan.FromSeconds(2);

    /// <summary>The composer saves this long after the last keystroke (ReplyComposer.DraftDelay).</summary>
    private static readonly TimeSpan Debounce = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Anns_draft_follows_her_to_a_second_browser_survives_a_reload_shows_to_Bob_and_goes_on_discard_and_on_send()
    {
        var ticket = await fixture.TicketAsync("Replacement part for the printer");
        var other = await fixture.TicketAsync("Toner question");
        await using var annA = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress);
        await using var annB = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress);
        await using var bob = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress);
        await annA.RunAsync(() => annA.SignInAsync("ann@example.test", "ann-password-123", $"/inbox/{ticket}"));
        await annB.RunAsync(() => annB.SignInAsync("ann@example.test", "ann-password-123", $"/inbox/{ticket}"));
        await bob.RunAsync(() => bob.SignInAsync("bob@example.test", "bob-password-123", $"/inbox/{ticket}"));
        var text = "Hello Carla, the replacement part ships on Monday.";

        // Typed in browser A: it reaches browser B (same user, other cookies) by itself.
        TimeSpan elapsed = default;
        await annA.RunAsync(async () =>
        {
            await Assertions.Expect(annA.Page.GetByTestId("reply-text")).ToBeVisibleAsync();
            await annB.Page.GetByTestId("reply-text").WaitForAsync();
            var box = annA.Page.GetByTestId("reply-text");
            await box.FillAsync(text[..^1]);
            await box.PressAsync(text[^1..]);
            var clock = Stopwatch.StartNew();
            await annB.Page.WaitForFunctionAsync("t => document.querySelector('[data-testid=reply-text]')?.value === t", text,
                new() { PollingInterval = 20, Timeout = 15_000 });
            elapsed = clock.Elapsed;
        });
        // What is measured: from the return of the last keystroke in A until B's text box holds the whole text, less the
        // composer's 1 s debounce (the save is meant to wait that long). The acceptance's 2 s bound applies to the rest.
        output.WriteLine($"Keystroke in A to text in B: {elapsed.TotalMilliseconds:N0} ms, {(elapsed - Debounce).TotalMilliseconds:N0} ms after the debounce.");
        Assert.True(elapsed - Debounce <= LiveBound,
            $"The draft reached the second browser {(elapsed - Debounce).TotalMilliseconds:N0} ms after the debounce; the bound is {LiveBound.TotalSeconds} s.");
        await annA.RunAsync(async () =>
        {
            await Assertions.Expect(annA.Page.GetByTestId("draft-status")).ToHaveTextAsync("Draft saved");
            // A Cc chip is part of the draft too.
            var ccInput = annA.Page.GetByTestId("recipients-cc").GetByTestId("recipient-input");
            await ccInput.FillAsync("boss@customer.test");
            await ccInput.PressAsync("Enter");
            await Assertions.Expect(annB.Page.GetByTestId("recipients-cc").GetByTestId("recipient-chip")).ToHaveTextAsync(["boss@customer.test"]);
        });
        Assert.Equal(["boss@customer.test"], (await fixture.AnnsDraftAsync(ticket))!.Cc);

        // Reloaded: restored from the server, chips included.
        await annB.RunAsync(async () =>
        {
            await annB.Page.ReloadAsync();
            await annB.WaitInteractiveAsync();
            await Assertions.Expect(annB.Page.GetByTestId("reply-text")).ToHaveValueAsync(text);
            await Assertions.Expect(annB.Page.GetByTestId("recipients-cc").GetByTestId("recipient-chip")).ToHaveTextAsync(["boss@customer.test"]);
            await Assertions.Expect(annB.Page.GetByTestId("draft-status")).ToHaveTextAsync("Draft saved");
        });

        // Bob sees who has a draft beside who is viewing; his own composer stays empty.
        await bob.RunAsync(async () =>
        {
            await Assertions.Expect(bob.Page.GetByTestId("draft-author")).ToHaveTextAsync(["Ann has a draft"]);
            await Assertions.Expect(bob.Page.GetByTestId("collision")).ToContainTextAsync("is viewing");
            await Assertions.Expect(bob.Page.GetByTestId("reply-text")).ToHaveValueAsync("");
        });

        // Ann's list marks the ticket with her draft, and only that one; Bob's does not.
        await annA.RunAsync(async () =>
        {
            await Assertions.Expect(Row(annA, ticket).GetByTestId("row-draft")).ToHaveTextAsync("Draft");
            await Assertions.Expect(Row(annA, other)).ToBeVisibleAsync();
            await Assertions.Expect(Row(annA, other).GetByTestId("row-draft")).ToHaveCountAsync(0);
            await Assertions.Expect(Row(bob, ticket)).ToBeVisibleAsync();
            await Assertions.Expect(Row(bob, ticket).GetByTestId("row-draft")).ToHaveCountAsync(0);
        });

        // Discarded in B: gone in A, for Bob, from the list and on the server.
        await annB.RunAsync(async () =>
        {
            await annB.Page.GetByTestId("discard-draft").ClickAsync();
            await Assertions.Expect(annB.Page.GetByTestId("reply-text")).ToHaveValueAsync("");
            await Assertions.Expect(annB.Page.GetByTestId("recipients-cc").GetByTestId("recipient-chip")).ToHaveCountAsync(0);
            await Assertions.Expect(annA.Page.GetByTestId("reply-text")).ToHaveValueAsync("");
            await Assertions.Expect(Row(annA, ticket).GetByTestId("row-draft")).ToHaveCountAsync(0);
            await Assertions.Expect(bob.Page.GetByTestId("draft-author")).ToHaveCountAsync(0);
            await Assertions.Expect(annA.Page.GetByTestId("discard-draft")).ToHaveCountAsync(0);
        });
        Assert.Null(await fixture.AnnsDraftAsync(ticket));

        // A new draft, then the reply is sent from A: the draft goes everywhere.
        await annA.RunAsync(async () =>
        {
            await annA.Page.GetByTestId("reply-text").FillAsync("Hello Carla, it ships today.");
            await Assertions.Expect(annA.Page.GetByTestId("draft-status")).ToHaveTextAsync("Draft saved");
            await Assertions.Expect(bob.Page.GetByTestId("draft-author")).ToHaveTextAsync(["Ann has a draft"]);
            await Assertions.Expect(annB.Page.GetByTestId("reply-text")).ToHaveValueAsync("Hello Carla, it ships today.");
            await Assertions.Expect(Row(annA, ticket).GetByTestId("row-draft")).ToHaveCountAsync(1);
            await annA.Page.GetByTestId("send-reply").ClickAsync();
            await Assertions.Expect(annA.Page.GetByTestId("message")).ToHaveCountAsync(2);
            await Assertions.Expect(annA.Page.GetByTestId("reply-text")).ToHaveValueAsync("");
            await Assertions.Expect(annB.Page.GetByTestId("reply-text")).ToHaveValueAsync("");
            await Assertions.Expect(bob.Page.GetByTestId("draft-author")).ToHaveCountAsync(0);
            await Assertions.Expect(Row(annA, ticket).GetByTestId("row-draft")).ToHaveCountAsync(0);
        });
        Assert.Null(await fixture.AnnsDraftAsync(ticket));
        AssertNoPageFailedToRender();
    }

    [Theory]
    [MemberData(nameof(Screens.LaptopAndPhoneData), MemberType = typeof(Screens))]
    public async Task The_draft_controls_the_list_mark_and_Anns_draft_for_Bob_at_a_laptop_and_a_phone(int width, int height, string theme)
    {
        var ticket = await fixture.TicketAsync($"Draft look {theme} {width}");
        await using var ann = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress, width, height, theme);
        await using var bob = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress, width, height, theme);
        await bob.RunAsync(() => bob.SignInAsync("bob@example.test", "bob-password-123", $"/inbox/{ticket}"));
        await ann.RunAsync(async () =>
        {
            await ann.SignInAsync("ann@example.test", "ann-password-123", $"/inbox/{ticket}");
            await ann.Page.GetByTestId("reply-text").FillAsync("Hello Carla,\n\nthe replacement part ships on Monday.");
            await Assertions.Expect(ann.Page.GetByTestId("draft-status")).ToHaveTextAsync("Draft saved");
            await Assertions.Expect(ann.Page.GetByTestId("discard-draft")).ToBeVisibleAsync();
            await ann.ScreenshotAsync($"draft-composer-{theme}-{width}");
        });
        await bob.RunAsync(async () =>
        {
            await Assertions.Expect(bob.Page.GetByTestId("draft-author")).ToHaveTextAsync(["Ann has a draft"]);
            await bob.ScreenshotAsync($"draft-others-{theme}-{width}");
        });
        await ann.RunAsync(async () =>
        {
            // On a phone the list is its own page.
            if (width < 800)
                await ann.Page.GetByRole(AriaRole.Link, new() { Name = "Back to the list" }).ClickAsync();
            await Assertions.Expect(Row(ann, ticket).GetByTestId("row-draft")).ToBeVisibleAsync();
            await ann.ScreenshotAsync($"draft-list-mark-{theme}-{width}");
        });
        AssertNoPageFailedToRender();
    }

    /// <summary>
    /// No page of this app failed to re-render on a store change so far (StoreComponent logs it). Each page load is
    /// prerendered first, and the prerendered inbox used to re-render on its own late loads (the draft marks) and throw in
    /// Blazor's diff; the pages looked right because the circuit's instance took over (PrerenderedStoreComponentTests).
    /// </summary>
    private void AssertNoPageFailedToRender()
    {
        var log = string.Concat(App.LogFiles().Select(f => System.Text.Encoding.UTF8.GetString(f.Bytes)));
        var failure = log.IndexOf("failed to re-render", StringComparison.Ordinal);
        Assert.True(failure < 0, $"A page failed to re-render ({App.DescribeLogFiles()}):\n{(failure < 0 ? "" : log[Math.Max(0, failure - 200)..Math.Min(log.Length, failure + 600)])}");
    }

    private static ILocator Row(BrowserPage page, long ticket) => page.Page.Locator($"[data-testid='ticket-row'][data-ticket='{ticket}']");
}
