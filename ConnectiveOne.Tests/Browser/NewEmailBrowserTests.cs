using System.Security.Cryptography;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Tests.Conversation;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using MimeKit;

namespace ConnectiveOne.Tests.Browser;

/// <summary>
/// Issue #14 in Chromium: "New email" from the inbox. The operator picks the From address, fills To/Cc chips (a wrong
/// address refused in words), subject, text and a file; the Pending ticket opens, the relay gets the mail with the file
/// byte-identical, and the customer's answer threads into it. One app, one walk through light/dark and both sizes.
/// </summary>
[Collection(BrowserPagesCollection.Name)]
[Trait("Database", "Sqlite")] // the dialog in the page; NewTicketTests cover both databases
public sealed class NewEmailBrowserTests(ChromiumFixture chromium) : IAsyncLifetime
{
    private const string Dana = "dana@customer.test";

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
    public async Task A_new_email_from_the_inbox_opens_a_Pending_ticket_goes_out_with_its_file_and_the_answer_threads_into_it()
    {
        await MailSeed.AddressServedByBotAsync(App);
        var sales = await MailSeed.AddressAsync(App, "sales@acme.test", DomainStatus.Verified);
        var offer = RandomNumberGenerator.GetBytes(30_000);

        await using var op = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress, 1366, 768, "dark");
        var page = op.Page;
        var dialog = DialogChecks.Dialog(page, "New email");
        var switchTheme = page.GetByRole(AriaRole.Button, new() { Name = "Switch theme" });
        var from = dialog.GetByRole(AriaRole.Combobox, new() { Name = "From" });
        var to = dialog.GetByTestId("recipients-to");
        var cc = dialog.GetByTestId("recipients-cc");
        long ticketId = 0;
        await op.RunAsync(async () =>
        {
            await op.SignInAsync(TestApp.AdminEmail, TestApp.AdminPassword, "/inbox");

            // Dark, wide: the empty dialog, then closed by Cancel.
            await page.GetByTestId("new-email").ClickAsync();
            await Assertions.Expect(from).ToHaveValueAsync("support@acme.test · Support");
            await DialogChecks.CheckAsync(op, dialog, "new-email-dialog-dark-1366");
            await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
            await Assertions.Expect(dialog).ToHaveCountAsync(0);

            // Dark, phone: reopened, then closed by its ×.
            await page.SetViewportSizeAsync(390, 844);
            await page.GetByTestId("new-email").ClickAsync();
            await dialog.GetByLabel("Subject").FillAsync("Your renewal offer, with the prices for the next three years");
            await DialogChecks.CheckAsync(op, dialog, "new-email-dialog-dark-390");
            await dialog.Locator(".mud-dialog-title").GetByRole(AriaRole.Button, new() { Name = "Close" }).ClickAsync();
            await Assertions.Expect(dialog).ToHaveCountAsync(0);

            // Light, phone: filled in and sent.
            await switchTheme.ClickAsync();
            await page.WaitForFunctionAsync("() => document.cookie.includes('c1-theme=light')");
            await page.GetByTestId("new-email").ClickAsync();
            await from.ClickAsync();
            await page.Locator(".mud-popover-open .mud-list-item", new() { HasText = "sales@acme.test" }).ClickAsync();
            await Assertions.Expect(from).ToHaveValueAsync("sales@acme.test");

            var toInput = to.GetByTestId("recipient-input");
            await toInput.FillAsync("dana at customer");
            await toInput.PressAsync("Enter");
            await Assertions.Expect(to.GetByTestId("recipient-error")).ToContainTextAsync("\"dana at customer\" is not a usable address");
            await Assertions.Expect(to.GetByTestId("recipient-chip")).ToHaveCountAsync(0);
            await toInput.FillAsync("erik@customer.test");
            await toInput.PressAsync("Enter");
            await toInput.FillAsync(Dana);
            await toInput.PressAsync("Enter");
            await Assertions.Expect(to.GetByTestId("recipient-chip")).ToHaveTextAsync(["erik@customer.test", Dana]);
            await to.GetByTestId("recipient-chip").Filter(new() { HasText = "erik@customer.test" }).Locator(".mud-chip-close-button").ClickAsync();
            await Assertions.Expect(to.GetByTestId("recipient-chip")).ToHaveTextAsync([Dana]);
            // A comma ends an address too, as in a mail client.
            await cc.GetByTestId("recipient-input").FillAsync("erik@customer.test,");
            await Assertions.Expect(cc.GetByTestId("recipient-chip")).ToHaveTextAsync(["erik@customer.test"]);
            await Assertions.Expect(cc.GetByTestId("recipient-input")).ToHaveValueAsync(""); // the comma took the address out of the box

            await dialog.GetByLabel("Subject").FillAsync("Your renewal");
            await dialog.GetByLabel("Message").FillAsync("Hello Dana,\n\nthe **offer** is attached.");
            var files = dialog.GetByTestId("new-email-files");
            await files.SetInputFilesAsync([
                new FilePayload { Name = "offer.pdf", MimeType = "application/pdf", Buffer = offer },
                new FilePayload { Name = "draft.txt", MimeType = "text/plain", Buffer = "not this one"u8.ToArray() },
            ]);
            await Assertions.Expect(dialog.GetByTestId("new-email-attachment")).ToHaveCountAsync(2);
            await dialog.GetByRole(AriaRole.Button, new() { Name = "Remove draft.txt" }).ClickAsync();
            await Assertions.Expect(dialog.GetByTestId("new-email-attachment")).ToHaveCountAsync(1);
            await Assertions.Expect(dialog.GetByTestId("new-email-attachment")).ToContainTextAsync("offer.pdf");
            await DialogChecks.CheckAsync(op, dialog, "new-email-dialog-light-390");

            // Light, wide: the same dialog as it is sent.
            await page.SetViewportSizeAsync(1366, 768);
            await DialogChecks.CheckAsync(op, dialog, "new-email-dialog-light-1366");
            await dialog.GetByTestId("new-email-send").ClickAsync();
            await Assertions.Expect(dialog).ToHaveCountAsync(0);

            // The new ticket opens, Pending, with its first mail on its way.
            await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex(@"/inbox/\d+$"));
            ticketId = long.Parse(page.Url[(page.Url.LastIndexOf('/') + 1)..]);
            await Assertions.Expect(page.GetByTestId("ticket-view")).ToContainTextAsync("Your renewal");
            await Assertions.Expect(page.GetByTestId("message")).ToHaveCountAsync(1);
            await Assertions.Expect(page.GetByTestId("message-recipients")).ToContainTextAsync($"Reply to {Dana}");
            await Assertions.Expect(page.GetByTestId("delivery")).ToHaveTextAsync("Sent", new() { Timeout = 30_000 });
        });

        var sent = (await _relay.WaitForAsync(1)).Single();
        Assert.Equal("sales@acme.test", sent.Message.From.Mailboxes.Single().Address);
        Assert.Equal([Dana], sent.Message.To.Mailboxes.Select(m => m.Address));
        Assert.Equal(["erik@customer.test"], sent.Message.Cc.Mailboxes.Select(m => m.Address));
        Assert.Equal($"Your renewal [#{ticketId}]", sent.Message.Subject);
        Assert.Contains("<strong>offer</strong>", sent.Message.HtmlBody);
        var part = sent.Message.Attachments.OfType<MimePart>().Single();
        Assert.Equal("offer.pdf", part.FileName);
        using (var decoded = new MemoryStream())
        {
            await part.Content!.DecodeToAsync(decoded);
            Assert.Equal(SHA256.HashData(offer), SHA256.HashData(decoded.ToArray()));
        }
        await using (var db = App.Database.OpenContext())
            Assert.Equal(Core.Tickets.TicketStatus.Pending, (await db.Tickets.SingleAsync(t => t.Id == ticketId)).Status);

        // Dana answers from her client (In-Reply-To our mail): it threads into the ticket, which the page shows live.
        var answer = new MimeMessage
        {
            From = { new MailboxAddress("Dana Customer", Dana) },
            To = { MailboxAddress.Parse("sales@acme.test") },
            Subject = "Re: " + sent.Message.Subject,
            MessageId = "dana-1@customer.test",
            InReplyTo = sent.Message.MessageId,
            Body = new TextPart("plain") { Text = "Thanks, we renew." },
        };
        await _inbound.SendAsync(answer, sales.TechnicalAddress);
        await op.RunAsync(async () =>
        {
            await Assertions.Expect(page.GetByTestId("message")).ToHaveCountAsync(2);
            await Assertions.Expect(page.GetByTestId("message-sender").Nth(1)).ToHaveTextAsync("Dana Customer");
            await op.ScreenshotAsync("new-email-thread-light-1366");
        });
        await using (var db = App.Database.OpenContext())
            Assert.Equal(ticketId, await db.Messages.Where(m => m.MessageIdHeader == "dana-1@customer.test").Select(m => m.TicketId).SingleAsync());
    }
}
