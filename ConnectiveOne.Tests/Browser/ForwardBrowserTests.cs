using System.Security.Cryptography;
using ConnectiveOne.Tests.Conversation;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.Playwright;
using MimeKit;

namespace ConnectiveOne.Tests.Browser;

/// <summary>
/// Issue #14 in Chromium: the Forward dialog (of one message and of the whole ticket). The To chips refuse a wrong
/// address in words, take and drop addresses; the forward reaches a capture relay with the note and the file
/// byte-identical and shows in the thread; the third party's answer comes back into the ticket marked as theirs.
/// One app, one walk: light and dark, 1366×768 and 390×844 are visited with the dialog open in turn.
/// </summary>
[Collection(BrowserCollection.Name)]
[Trait("Database", "Sqlite")] // the dialog in the page; ForwardTests cover both databases
public sealed class ForwardBrowserTests(ChromiumFixture chromium) : IAsyncLifetime
{
    private const string Vendor = "service@vendor.test";

    private CaptureRelay _relay = null!;
    private InboundApp _inbound = null!;
    private TestApp App => _inbound.App;

    public async Task InitializeAsync()
    {
        _relay = await CaptureRelay.StartAsync();
        _inbound = ConversationApp.Start(_relay);
        App.StartKestrel();
    }

    public async Task DisposeAsync()
    {
        await _inbound.DisposeAsync();
        await _relay.DisposeAsync();
    }

    [Fact]
    public async Task A_message_is_forwarded_from_its_dialog_with_its_file_and_the_third_partys_answer_is_marked_in_the_thread()
    {
        var technical = await MailSeed.AddressServedByBotAsync(App);
        var manual = RandomNumberGenerator.GetBytes(20_000);
        var first = Mail(new MailboxAddress("Carla Customer", "carla@customer.test"), "Printer jams", "jam@customer.test");
        var body = new BodyBuilder { TextBody = "The printer jams on every second page." };
        body.Attachments.Add("manual.pdf", manual, new ContentType("application", "pdf"));
        first.Body = body.ToMessageBody();
        await _inbound.SendAsync(first, technical);

        await using var op = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress, 1366, 768, "light");
        var page = op.Page;
        var forwardMessage = DialogChecks.Dialog(page, "Forward this message");
        var forwardTicket = DialogChecks.Dialog(page, "Forward the whole ticket");
        var switchTheme = page.GetByRole(AriaRole.Button, new() { Name = "Switch theme" });
        await op.RunAsync(async () =>
        {
            await op.SignInAsync(TestApp.AdminEmail, TestApp.AdminPassword, "/inbox");
            await page.GetByTestId("ticket-row").First.ClickAsync();
            await Assertions.Expect(page.GetByTestId("message")).ToHaveCountAsync(1);

            // Light, wide: one message. A wrong address is refused in words and stays to be corrected; chips come and go.
            await page.GetByTestId("forward-message").ClickAsync();
            await Assertions.Expect(forwardMessage.GetByTestId("forward-contents")).ToContainTextAsync("1 message quoted in order, with 1 attachment:");
            await Assertions.Expect(forwardMessage.GetByTestId("forward-attachment")).ToHaveTextAsync([new System.Text.RegularExpressions.Regex(@"^\s*manual\.pdf\s+19\.5 KB\s*$")]);
            var to = forwardMessage.GetByTestId("recipients-to");
            var input = to.GetByTestId("recipient-input");
            await input.FillAsync("service at vendor");
            await input.PressAsync("Enter");
            await Assertions.Expect(to.GetByTestId("recipient-error")).ToContainTextAsync("\"service at vendor\" is not a usable address");
            await Assertions.Expect(to.GetByTestId("recipient-chip")).ToHaveCountAsync(0);
            await Assertions.Expect(input).ToHaveValueAsync("service at vendor");
            await input.FillAsync(Vendor);
            await input.PressAsync("Enter");
            await input.FillAsync("sales@vendor.test");
            await input.PressAsync("Enter");
            await Assertions.Expect(to.GetByTestId("recipient-chip")).ToHaveTextAsync([Vendor, "sales@vendor.test"]);
            await Assertions.Expect(to.GetByTestId("recipient-error")).ToHaveCountAsync(0);
            await to.GetByTestId("recipient-chip").Filter(new() { HasText = "sales@vendor.test" }).Locator(".mud-chip-close-button").ClickAsync();
            await Assertions.Expect(to.GetByTestId("recipient-chip")).ToHaveTextAsync([Vendor]);
            await forwardMessage.GetByLabel("Note (on top of the forwarded mail)").FillAsync("Could you look at this jam?");
            await DialogChecks.CheckAsync(op, forwardMessage, "forward-dialog-light-1366");
            await forwardMessage.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
            await Assertions.Expect(forwardMessage).ToHaveCountAsync(0);

            // Dark, wide then phone: the whole ticket; Forward without an address says what is missing; closed by its ×.
            await switchTheme.ClickAsync();
            await page.WaitForFunctionAsync("() => document.cookie.includes('c1-theme=dark')");
            await page.GetByTestId("forward-ticket").ClickAsync();
            await Assertions.Expect(forwardTicket.GetByTestId("forward-contents")).ToContainTextAsync("1 message quoted in order, with 1 attachment:");
            await forwardTicket.GetByTestId("forward-send").ClickAsync();
            await Assertions.Expect(forwardTicket.GetByTestId("forward-error")).ToHaveTextAsync("Add the address to forward to (press Enter after typing it).");
            await forwardTicket.GetByTestId("recipient-input").FillAsync(Vendor);
            await forwardTicket.GetByTestId("recipient-input").PressAsync("Enter");
            await forwardTicket.GetByLabel("Note (on top of the forwarded mail)").FillAsync("The whole story, for the record.");
            await DialogChecks.CheckAsync(op, forwardTicket, "forward-dialog-dark-1366");
            await page.SetViewportSizeAsync(390, 844);
            await DialogChecks.CheckAsync(op, forwardTicket, "forward-dialog-dark-390");
            await forwardTicket.Locator(".mud-dialog-title").GetByRole(AriaRole.Button, new() { Name = "Close" }).ClickAsync();
            await Assertions.Expect(forwardTicket).ToHaveCountAsync(0);

            // Light, phone: this one is sent.
            await switchTheme.ClickAsync();
            await page.WaitForFunctionAsync("() => document.cookie.includes('c1-theme=light')");
            await page.GetByTestId("forward-message").ClickAsync();
            await forwardMessage.GetByTestId("recipient-input").FillAsync(Vendor);
            await forwardMessage.GetByTestId("recipient-input").PressAsync("Enter");
            await Assertions.Expect(forwardMessage.GetByTestId("recipient-chip")).ToHaveTextAsync([Vendor]);
            await forwardMessage.GetByLabel("Note (on top of the forwarded mail)").FillAsync("Could you look at this jam?");
            await DialogChecks.CheckAsync(op, forwardMessage, "forward-dialog-light-390");
            await forwardMessage.GetByTestId("forward-send").ClickAsync();
            await Assertions.Expect(forwardMessage).ToHaveCountAsync(0);

            // The thread shows the forward and to whom it went.
            await Assertions.Expect(page.GetByTestId("message")).ToHaveCountAsync(2);
            await Assertions.Expect(page.GetByTestId("message-recipients").Nth(1)).ToContainTextAsync($"Forwarded to {Vendor}");
            await Assertions.Expect(page.GetByTestId("message").Nth(1).GetByTestId("delivery")).ToHaveTextAsync("Sent", new() { Timeout = 30_000 });
        });

        var sent = (await _relay.WaitForAsync(1)).Single();
        Assert.Equal([Vendor], sent.EnvelopeTo);
        Assert.StartsWith("Could you look at this jam?", sent.Message.TextBody!.ReplaceLineEndings("\n"));
        var part = sent.Message.Attachments.OfType<MimePart>().Single();
        Assert.Equal("manual.pdf", part.FileName);
        using (var decoded = new MemoryStream())
        {
            await part.Content!.DecodeToAsync(decoded);
            Assert.Equal(SHA256.HashData(manual), SHA256.HashData(decoded.ToArray()));
        }

        // The vendor answers from their own client (In-Reply-To the forward): it lands in the ticket, marked as a third party's.
        var answer = Mail(new MailboxAddress("Vendor Service", Vendor), "Re: " + sent.Message.Subject, "answer@vendor.test");
        answer.InReplyTo = sent.Message.MessageId;
        await _inbound.SendAsync(answer, technical);
        await op.RunAsync(async () =>
        {
            await Assertions.Expect(page.GetByTestId("message")).ToHaveCountAsync(3);
            var third = page.GetByTestId("message").Nth(2);
            await Assertions.Expect(third.GetByTestId("message-sender")).ToHaveTextAsync("Vendor Service");
            await Assertions.Expect(third.GetByTestId("message-role")).ToHaveTextAsync("third party");
            await Assertions.Expect(page.GetByTestId("message-role")).ToHaveCountAsync(1);
            await op.ScreenshotAsync("forward-thread-light-390");
        });
    }

    private static MimeMessage Mail(MailboxAddress from, string subject, string messageId) => new()
    {
        From = { from },
        To = { MailboxAddress.Parse("support@acme.test") },
        Subject = subject,
        MessageId = messageId,
        Body = new TextPart("plain") { Text = "Part 4711 is on its way; it fixes the jam." },
    };
}
