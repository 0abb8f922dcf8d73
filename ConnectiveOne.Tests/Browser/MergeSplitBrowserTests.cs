using ConnectiveOne.Tests.TestSupport;
using Microsoft.Playwright;
using MimeKit;

namespace ConnectiveOne.Tests.Browser;

/// <summary>
/// Issue #16, merge and split in Chromium with two operators: Ann merges and splits, Bob watches the same tickets and sees
/// each change happen live (the merged number turns into the target, the split-off messages leave), then undoes the split.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class MergeSplitBrowserTests(ChromiumFixture chromium) : IAsyncLifetime
{
    private InboundApp _inbound = null!;
    private TestApp App => _inbound.App;

    public async Task InitializeAsync()
    {
        _inbound = new InboundApp(new Dictionary<string, string?> { ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain });
        App.StartKestrel();
    }

    public async Task DisposeAsync() => await _inbound.DisposeAsync();

    [Theory]
    [MemberData(nameof(Screens.LaptopAndPhoneData), MemberType = typeof(Screens))]
    public async Task Ann_merges_and_splits_and_Bob_sees_both_live_and_undoes_the_split(int width, int height, string theme)
    {
        var technical = await MailSeed.AddressServedByBotAsync(App);
        await App.CreateUserWithTokenAsync("ann@example.test", "Operator", "ann-password-123");
        await App.CreateUserWithTokenAsync("bob@example.test", "Operator", "bob-password-123");
        var first = await SendAsync(technical, "Invoice 4711 is wrong", "The amount on invoice 4711 is wrong.");
        var target = await TicketOfAsync(first);
        // Her second matter joins the first by the sender + subject rule: the case split is for.
        await SendAsync(technical, "Re: Invoice 4711 is wrong", "Also, my delivery 88 never arrived.");
        var second = await SendAsync(technical, "Invoice 4711 wrong again", "Sorry, one more thing about invoice 4711.");
        var source = await TicketOfAsync(second);
        Assert.NotEqual(target, source);

        await using var ann = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress, width, height, theme);
        await using var bob = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress);
        await bob.RunAsync(() => bob.SignInAsync("bob@example.test", "bob-password-123", $"/inbox/{source}"));
        await Assertions.Expect(bob.Page.GetByTestId("ticket-view")).ToContainTextAsync("one more thing");

        await ann.RunAsync(async () =>
        {
            await ann.SignInAsync("ann@example.test", "ann-password-123", $"/inbox/{source}");
            await ann.Page.GetByTestId("merge-open").ClickAsync();
            await ann.Page.GetByTestId("merge-search").FillAsync(target.ToString());
            await ann.Page.GetByTestId("merge-candidate").And(ann.Page.Locator($"[data-ticket='{target}']")).ClickAsync();
            await Assertions.Expect(ann.Page.GetByTestId("merge-summary")).ToContainTextAsync($"move into #{target}");
            await ann.ScreenshotAsync($"merge-dialog-{theme}-{width}");
            await ann.Page.GetByTestId("merge-confirm").ClickAsync();
            // The toast offers Undo; the old number now shows the target with the merge as an event.
            var toast = ann.Page.Locator(".mud-snackbar").Filter(new() { HasText = $"Merged #{source} into #{target}" });
            await Assertions.Expect(toast.GetByRole(AriaRole.Button, new() { Name = "Undo" })).ToBeVisibleAsync();
            await ann.Page.WaitForURLAsync($"**/inbox/{target}");
            await Assertions.Expect(ann.Page.GetByTestId("message")).ToHaveCountAsync(3);
        });

        // Bob was on the merged ticket: he is now on the target, with the merge in the thread.
        await bob.RunAsync(async () =>
        {
            await bob.Page.WaitForURLAsync($"**/inbox/{target}");
            await Assertions.Expect(bob.Page.GetByTestId("message")).ToHaveCountAsync(3);
            await Assertions.Expect(bob.Page.GetByTestId("ticket-event").And(bob.Page.Locator("[data-kind='Merged']")))
                .ToContainTextAsync($"ann@example.test merged #{source}");
        });

        // Ann splits the delivery matter (the second message and the one after it) into a new ticket.
        await ann.RunAsync(async () =>
        {
            await ann.Page.GetByTestId("message").Nth(1).GetByTestId("message-split").ClickAsync();
            await Assertions.Expect(ann.Page.Locator(".mud-snackbar").Filter(new() { HasText = "Split into the new ticket" })).ToBeVisibleAsync();
            await Assertions.Expect(ann.Page.GetByTestId("message")).ToHaveCountAsync(1);
            await Assertions.Expect(ann.Page.GetByTestId("ticket-event").And(ann.Page.Locator("[data-kind='SplitOff']"))).ToBeVisibleAsync();
            await ann.ScreenshotAsync($"split-result-{theme}-{width}");
        });

        // Bob sees the messages leave, and undoes the split from the event in the thread; Ann sees them come back.
        await bob.RunAsync(async () =>
        {
            await Assertions.Expect(bob.Page.GetByTestId("message")).ToHaveCountAsync(1);
            var split = bob.Page.GetByTestId("ticket-event").And(bob.Page.Locator("[data-kind='SplitOff']"));
            await split.GetByTestId("event-undo").ClickAsync();
            await Assertions.Expect(bob.Page.GetByTestId("message")).ToHaveCountAsync(3);
        });
        await ann.RunAsync(async () =>
        {
            await Assertions.Expect(ann.Page.GetByTestId("message")).ToHaveCountAsync(3);
            await Assertions.Expect(ann.Page.GetByTestId("ticket-event").And(ann.Page.Locator("[data-kind='Undone']"))).ToContainTextAsync("bob@example.test undid the split");
            await Assertions.Expect(ann.Page.GetByTestId("ticket-event").And(ann.Page.Locator("[data-kind='SplitOff']")).GetByTestId("event-undo")).ToHaveCountAsync(0);
        });
    }

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

    private async Task<long> TicketOfAsync(string messageId)
    {
        await using var db = App.Database.OpenContext();
        return db.Messages.Where(m => m.MessageIdHeader == messageId).Select(m => m.TicketId).Single();
    }
}
