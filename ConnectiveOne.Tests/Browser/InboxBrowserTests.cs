using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.Playwright;
using MimeKit;

namespace ConnectiveOne.Tests.Browser;

/// <summary>Two operators in Chromium on one live inbox, with real SMTP in and a capture relay out.</summary>
[Collection(BrowserCollection.Name)]
public sealed class InboxBrowserTests(ChromiumFixture chromium) : IAsyncLifetime
{
    private CaptureRelay _relay = null!;
    private InboundApp _inbound = null!;
    private TestApp App => _inbound.App;

    public async Task InitializeAsync()
    {
        _relay = await CaptureRelay.StartAsync();
        var settings = new Dictionary<string, string?>(_relay.Settings)
        {
            ["ConnectiveOne:Outbound:RetryDelays"] = "00:00:02",
            ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain,
        };
        _inbound = new InboundApp(settings);
        App.StartKestrel();
    }

    public async Task DisposeAsync()
    {
        await _inbound.DisposeAsync();
        await _relay.DisposeAsync();
    }

    private static MimeMessage CustomerMail(string subject, string text, string? inReplyTo = null, IEnumerable<string>? references = null)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Carla Customer", "carla@customer.test"));
        message.To.Add(MailboxAddress.Parse("support@acme.test"));
        message.Subject = subject;
        message.MessageId = $"{Guid.NewGuid():N}@customer.test";
        if (inReplyTo is not null)
            message.InReplyTo = inReplyTo;
        foreach (var id in references ?? [])
            message.References.Add(id);
        message.Body = new TextPart("plain") { Text = text };
        return message;
    }

    [Fact]
    public async Task Two_operators_see_mail_arrive_see_each_other_and_follow_a_reply_to_sent()
    {
        var technical = await MailSeed.AddressServedByBotAsync(App);
        await App.CreateUserWithTokenAsync("ann@example.test", "Operator", "ann-password-123");
        await App.CreateUserWithTokenAsync("bob@example.test", "Operator", "bob-password-123");

        await using var ann = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress);
        await using var bob = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress);
        await ann.RunAsync(() => ann.SignInAsync("ann@example.test", "ann-password-123", "/inbox"));
        await bob.RunAsync(() => bob.SignInAsync("bob@example.test", "bob-password-123", "/inbox"));
        await ann.ScreenshotAsync("inbox-empty-light-1366");

        // Mail by SMTP appears in both lists without a reload, and the Open count moves.
        var first = CustomerMail("Invoice 4711 is wrong", "Hello, the amount on invoice 4711 is wrong.\nCarla");
        await _inbound.SendAsync(first, technical);
        foreach (var page in new[] { ann, bob })
            await page.RunAsync(async () =>
            {
                await Assertions.Expect(page.Page.GetByTestId("ticket-row").Filter(new() { HasText = "Invoice 4711 is wrong" })).ToBeVisibleAsync();
                await Assertions.Expect(page.Page.GetByTestId("count-open")).ToHaveTextAsync("1");
                await Assertions.Expect(page.Page.GetByTestId("nav-open-count")).ToHaveTextAsync("1");
            });

        // Ann opens it: Bob, on the same ticket, sees that she is viewing, then typing.
        await ann.RunAsync(async () =>
        {
            await ann.Page.GetByTestId("ticket-row").First.ClickAsync();
            await Assertions.Expect(ann.Page.GetByTestId("ticket-view")).ToContainTextAsync("the amount on invoice 4711 is wrong");
        });
        await bob.RunAsync(async () =>
        {
            await Assertions.Expect(bob.Page.GetByTestId("ticket-row").First).ToContainTextAsync("ann");
            await bob.Page.GetByTestId("ticket-row").First.ClickAsync();
            await Assertions.Expect(bob.Page.GetByTestId("collision")).ToContainTextAsync("ann@example.test is viewing");
        });
        await ann.RunAsync(() => ann.Page.GetByTestId("reply-text").FillAsync("Dear Carla, we are correcting invoice 4711 today."));
        await bob.RunAsync(async () =>
        {
            await Assertions.Expect(bob.Page.GetByTestId("collision")).ToContainTextAsync("ann@example.test is typing a reply");
            await bob.ScreenshotAsync("inbox-collision-light-1366");
        });

        // Ann sends; the relay refuses (4xx) until both pages have shown Queued, then takes the next retry: Sent.
        // (Refusing only once raced a busy machine: the retry 2 s later could be delivered before Bob's page drew Queued.)
        _relay.RefuseAll(451, "4.3.0 Try again later");
        await ann.RunAsync(() => ann.Page.GetByTestId("send-reply").ClickAsync());
        for (var waited = 0; _relay.RefusedCount == 0; waited += 50)
        {
            Assert.True(waited < 30_000, "The relay was not asked within 30 s of Send.");
            await Task.Delay(50);
        }
        foreach (var page in new[] { ann, bob })
            await page.RunAsync(() => Assertions.Expect(page.Page.GetByTestId("delivery")).ToHaveTextAsync("Queued"));
        _relay.AcceptAll();
        foreach (var page in new[] { ann, bob })
            await page.RunAsync(() => Assertions.Expect(page.Page.GetByTestId("delivery")).ToHaveTextAsync("Sent", new() { Timeout = 30_000 }));
        await ann.ScreenshotAsync("inbox-ticket-light-1366");

        // The relay got it with threading headers pointing at Carla's message.
        var sent = (await _relay.WaitForAsync(1)).Single().Message;
        Assert.Equal(first.MessageId, sent.InReplyTo);
        Assert.Contains(first.MessageId, sent.References);
        Assert.Contains("[#", sent.Subject);

        // Carla answers the reply: it lands in the same ticket, live.
        var answer = CustomerMail("Re: " + sent.Subject, "Thank you!", sent.MessageId, [first.MessageId!, sent.MessageId!]);
        await _inbound.SendAsync(answer, technical);
        await ann.RunAsync(() => Assertions.Expect(ann.Page.GetByTestId("message")).ToHaveCountAsync(3));
        var tickets = await App.CreateApiClient().GetFromJsonAsync<JsonElement>("/api/v1/tickets");
        Assert.Equal(1, tickets.GetProperty("total").GetInt32());
    }

    /// <summary>
    /// Whoever opens a ticket last learns at once who is already there: the page starts from a presence snapshot
    /// instead of waiting for a change that happened before it opened. Ann's state stays still (viewing, then typing
    /// without pause), so no later presence event could carry it to Bob.
    /// </summary>
    [Fact]
    public async Task The_second_operator_to_open_a_ticket_sees_the_first_viewing_and_typing_at_once()
    {
        var technical = await MailSeed.AddressServedByBotAsync(App);
        await App.CreateUserWithTokenAsync("ann@example.test", "Operator", "ann-password-123");
        await App.CreateUserWithTokenAsync("bob@example.test", "Operator", "bob-password-123");
        await _inbound.SendAsync(CustomerMail("Printer on fire", "Hello, the printer is on fire."), technical);

        await using var ann = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress);
        await using var bob = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress);
        var ticketPath = "";
        await ann.RunAsync(async () =>
        {
            await ann.SignInAsync("ann@example.test", "ann-password-123", "/inbox");
            await ann.Page.GetByTestId("ticket-row").First.ClickAsync();
            await Assertions.Expect(ann.Page.GetByTestId("ticket-view")).ToContainTextAsync("the printer is on fire");
            ticketPath = new Uri(ann.Page.Url).AbsolutePath;
        });

        // Bob opens the inbox after Ann opened the ticket: the row shows her, then the ticket's header does.
        await bob.RunAsync(async () =>
        {
            await bob.SignInAsync("bob@example.test", "bob-password-123", "/inbox");
            var viewers = bob.Page.GetByTestId("ticket-row").First.GetByTestId("row-viewers");
            await Assertions.Expect(viewers).ToContainTextAsync("ann");
            await Assertions.Expect(viewers).ToHaveAttributeAsync("data-typing", "false");
            await bob.GotoAsync(ticketPath); // a fresh page on the ticket, as from a link
            await Assertions.Expect(bob.Page.GetByTestId("collision")).ToContainTextAsync("ann@example.test is viewing");
        });

        // Ann types and keeps typing (a key a second, well inside the typing lease): Bob, opening only now, sees it.
        using var typing = new CancellationTokenSource();
        await ann.Page.GetByTestId("reply-text").FillAsync("Dear Carla, ");
        var keys = Task.Run(async () =>
        {
            while (!typing.IsCancellationRequested)
            {
                await ann.Page.GetByTestId("reply-text").PressAsync("x");
                await Task.Delay(1000);
            }
        });
        try
        {
            await bob.RunAsync(async () =>
            {
                await bob.GotoAsync("/inbox");
                var viewers = bob.Page.GetByTestId("ticket-row").First.GetByTestId("row-viewers");
                await Assertions.Expect(viewers).ToHaveAttributeAsync("data-typing", "true");
                await bob.GotoAsync(ticketPath);
                await Assertions.Expect(bob.Page.GetByTestId("collision")).ToContainTextAsync("ann@example.test is typing a reply");
                await bob.ScreenshotAsync("inbox-second-viewer-light-1366");
            });
        }
        finally
        {
            await typing.CancelAsync();
            await keys;
        }
    }

    [Fact]
    public async Task A_reply_with_two_attachments_reaches_the_relay_byte_identical()
    {
        var technical = await MailSeed.AddressServedByBotAsync(App);
        await _inbound.SendAsync(CustomerMail("Please send the manual", "Could you send me the manual?"), technical);
        await using var op = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress);
        var files = new[]
        {
            new FilePayload { Name = "manual.pdf", MimeType = "application/pdf", Buffer = RandomNumberGenerator.GetBytes(300_000) },
            new FilePayload { Name = "wiring diagram.png", MimeType = "image/png", Buffer = RandomNumberGenerator.GetBytes(70_000) },
        };
        await op.RunAsync(async () =>
        {
            await op.SignInAsync(TestApp.AdminEmail, TestApp.AdminPassword, "/inbox");
            await op.Page.GetByTestId("ticket-row").First.ClickAsync();
            await op.Page.GetByTestId("reply-text").FillAsync("Here are the manual and the wiring diagram.");
            await op.Page.GetByTestId("reply-files").SetInputFilesAsync(files);
            await Assertions.Expect(op.Page.GetByTestId("pending-attachment")).ToHaveCountAsync(2);
            await Assertions.Expect(op.Page.GetByTestId("send-reply")).ToBeEnabledAsync();
            await op.ScreenshotAsync("inbox-composer-light-1366");
            await op.Page.GetByTestId("send-reply").ClickAsync();
            await Assertions.Expect(op.Page.GetByTestId("delivery")).ToHaveTextAsync("Sent", new() { Timeout = 30_000 });
        });
        var sent = (await _relay.WaitForAsync(1)).Single().Message;
        var parts = sent.Attachments.OfType<MimePart>().ToList();
        foreach (var file in files)
        {
            var part = Assert.Single(parts, p => p.FileName == file.Name);
            using var content = new MemoryStream();
            await part.Content!.DecodeToAsync(content);
            Assert.Equal(SHA256.HashData(file.Buffer), SHA256.HashData(content.ToArray()));
        }
    }

    /// <summary>A busy inbox and a rich ticket at a laptop and a phone width: nothing scrolls sideways.</summary>
    [Theory]
    [Trait("Database", "Sqlite")] // layout, not the provider
    [MemberData(nameof(Screens.LaptopAndPhoneData), MemberType = typeof(Screens))]
    public async Task A_busy_inbox_and_a_rich_ticket_fit_the_screen(int width, int height, string theme)
    {
        var technical = await MailSeed.AddressServedByBotAsync(App);
        var customers = new[] { "Dana Whitfield", "Emil Sørensen", "Fatima Haddad", "George Okafor", "Hana Kobayashi", "Ivan Petrov" };
        var subjects = new[] { "Order 20931 arrived damaged", "Cannot log in since the update", "Question about VAT on invoice 4711",
            "Please cancel my subscription", "Delivery address change", "Refund still not received after two weeks" };
        for (var i = 0; i < 12; i++)
        {
            var mail = CustomerMail(subjects[i % subjects.Length], "Hello,\nplease help.\nThanks");
            mail.From.Clear();
            mail.From.Add(new MailboxAddress(customers[i % customers.Length], $"customer{i}@example.org"));
            await _inbound.SendAsync(mail, technical);
        }
        var rich = new BodyBuilder
        {
            HtmlBody = "<p>Hi team,</p><p>the <b>label printer</b> prints <i>blank pages</i> since Monday. Photo below.</p>" +
                       "<table border=1><tr><td>Model</td><td>LP-200</td></tr><tr><td>Serial</td><td>88-1234-77</td></tr></table>" +
                       "<p>Best regards,<br>Jonas</p><div class=\"gmail_quote\">On Mon, support wrote:<blockquote>Earlier answer</blockquote></div>",
            TextBody = "Hi team, the label printer prints blank pages.",
        };
        rich.Attachments.Add("printer-photo.jpg", new byte[48_000], new ContentType("image", "jpeg"));
        rich.Attachments.Add("error-log.txt", "E42 paper sensor"u8.ToArray(), new ContentType("text", "plain"));
        var richMail = CustomerMail("Label printer prints blank pages", "");
        richMail.From.Clear();
        richMail.From.Add(new MailboxAddress("Jonas Berg", "jonas@example.org"));
        richMail.Body = rich.ToMessageBody();
        await _inbound.SendAsync(richMail, technical);

        await using var op = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress, width, height, theme);
        var suffix = $"{theme}-{width}";
        await op.RunAsync(async () =>
        {
            await op.SignInAsync(TestApp.AdminEmail, TestApp.AdminPassword, "/inbox");
            await Assertions.Expect(op.Page.GetByTestId("ticket-row")).ToHaveCountAsync(13);
            await Assertions.Expect(op.Page.Locator(".c1-ticket-row.c1-unread")).ToHaveCountAsync(13);
            await op.AssertFitsWindowAsync("inbox");
            await op.ScreenshotAsync($"inbox-busy-{suffix}");

            await op.Page.GetByTestId("ticket-row").Filter(new() { HasText = "Label printer" }).ClickAsync();
            await Assertions.Expect(op.Page.GetByTestId("attachment")).ToHaveCountAsync(2);
            await Assertions.Expect(op.Page.GetByTestId("quoted")).ToBeVisibleAsync();
            if (width > 900) // opened tickets are read; on a phone the list is hidden while a ticket is open
                await Assertions.Expect(op.Page.Locator(".c1-ticket-row.c1-unread")).ToHaveCountAsync(12);
            var reply = op.Page.GetByTestId("reply-text");
            const string draft = "Hi Jonas, thanks for the photo. Could you try a new label roll?";
            await reply.FillAsync(draft);
            // The screenshot shows the draft being written: the text in the box, the box focused.
            await Assertions.Expect(reply).ToHaveValueAsync(draft);
            await Assertions.Expect(reply).ToBeFocusedAsync();
            await op.AssertFitsWindowAsync("ticket");
            await op.ScreenshotAsync($"inbox-ticket-{suffix}");
        });
    }

    [Fact]
    public async Task The_keyboard_moves_opens_replies_and_goes_back()
    {
        var technical = await MailSeed.AddressServedByBotAsync(App);
        foreach (var subject in new[] { "First", "Second", "Third" })
            await _inbound.SendAsync(CustomerMail(subject, "Hello"), technical);
        await using var op = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress);
        await op.RunAsync(async () =>
        {
            await op.SignInAsync(TestApp.AdminEmail, TestApp.AdminPassword, "/inbox");
            await Assertions.Expect(op.Page.GetByTestId("ticket-row")).ToHaveCountAsync(3);
            await op.Page.Keyboard.PressAsync("j");
            await Assertions.Expect(op.Page.Locator(".c1-ticket-row.c1-cursor")).ToContainTextAsync("Second");
            await op.Page.Keyboard.PressAsync("j");
            await op.Page.Keyboard.PressAsync("k");
            await op.Page.Keyboard.PressAsync("Enter");
            await Assertions.Expect(op.Page.GetByTestId("ticket-view")).ToContainTextAsync("Second");
            await op.Page.Keyboard.PressAsync("r");
            await Assertions.Expect(op.Page.GetByTestId("reply-text")).ToBeFocusedAsync();
            await op.Page.Keyboard.PressAsync("Escape"); // leaves the composer
            await Assertions.Expect(op.Page.GetByTestId("reply-text")).Not.ToBeFocusedAsync();
            await op.Page.Keyboard.PressAsync("Escape"); // back to the list
            await Assertions.Expect(op.Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/inbox$"));
            await Assertions.Expect(op.Page.GetByTestId("ticket-view")).ToHaveCountAsync(0);
        });
    }
}
