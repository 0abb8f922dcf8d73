using ConnectiveOne.Tests.TestSupport;
using Microsoft.Playwright;
using MimeKit;

namespace ConnectiveOne.Tests.Browser;

/// <summary>One app (real SMTP in, a capture relay out) with one customer ticket, for the composer's image and preview tests.</summary>
public sealed class ReplyImagesApp : IAsyncLifetime
{
    public CaptureRelay Relay { get; private set; } = null!;
    public InboundApp Inbound { get; private set; } = null!;
    public TestApp App => Inbound.App;

    public async Task InitializeAsync()
    {
        Relay = await CaptureRelay.StartAsync();
        Inbound = new InboundApp(new Dictionary<string, string?>(Relay.Settings)
        {
            ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain,
            ["ConnectiveOne:Outbound:PollInterval"] = "00:00:01",
        });
        App.StartKestrel();
        var technical = await MailSeed.AddressServedByBotAsync(App);
        await Inbound.SendAsync(new MimeMessage
        {
            From = { new MailboxAddress("Carla Customer", "carla@customer.test") },
            To = { MailboxAddress.Parse("support@acme.test") },
            Subject = "Which cable?",
            MessageId = "cable@customer.test",
            Body = new TextPart("plain") { Text = "Which cable does the printer need?" },
        }, technical);
    }

    public async Task DisposeAsync()
    {
        await Inbound.DisposeAsync();
        await Relay.DisposeAsync();
    }
}

/// <summary>
/// Issue #14 in Chromium: an image pasted into the reply text becomes an attachment with a Markdown reference at the
/// cursor, shows in the preview, and reaches the relay inline (cid:) with its bytes; the preview is a sandboxed frame in
/// which hostile Markdown runs nothing and loads nothing remote.
/// </summary>
[Collection(BrowserCollection.Name)]
[Trait("Database", "Sqlite")] // what the composer does in the page; InlineImageReplyTests covers both databases
public sealed class ReplyImagesBrowserTests(ChromiumFixture chromium, ReplyImagesApp fixture) : IClassFixture<ReplyImagesApp>
{
    private TestApp App => fixture.App;

    // Draws a picture in the page, pastes it into the reply text as a screenshot tool's clipboard would (a PNG file and
    // no text), and returns the PNG's bytes as base64.
    private const string PasteImage = """
        async (box) => {
          const canvas = document.createElement('canvas');
          canvas.width = 240; canvas.height = 120;
          const g = canvas.getContext('2d');
          g.fillStyle = '#2457c5'; g.fillRect(0, 0, 240, 120);
          g.fillStyle = '#ffffff'; g.font = 'bold 40px sans-serif'; g.fillText('Cable', 62, 74);
          const blob = await new Promise((done) => canvas.toBlob(done, 'image/png'));
          const data = new DataTransfer();
          data.items.add(new File([blob], 'screenshot.png', { type: 'image/png' }));
          box.focus();
          box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
          let text = '';
          new Uint8Array(await blob.arrayBuffer()).forEach((b) => { text += String.fromCharCode(b); });
          return btoa(text);
        }
        """;

    [Fact]
    public async Task A_pasted_image_is_referred_to_at_the_cursor_shown_in_the_preview_and_sent_inline_by_cid()
    {
        byte[] pasted = [];
        // The same ticket on each screen for the screenshots; the last one sends.
        var screens = Screens.LaptopAndPhone;
        foreach (var (width, height, theme) in screens)
        {
            var sends = (width, height, theme) == screens[^1];
            await using var op = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress, width, height, theme);
            var page = op.Page;
            await op.RunAsync(async () =>
            {
                await op.SignInAsync(TestApp.AdminEmail, TestApp.AdminPassword, "/inbox");
                await page.GetByTestId("ticket-row").First.ClickAsync();
                var text = page.GetByTestId("reply-text");
                await text.FillAsync("This one:");
                pasted = Convert.FromBase64String(await text.EvaluateAsync<string>(PasteImage));

                // The image is attached as inline and the text refers to it where the cursor was.
                var chip = page.GetByTestId("pending-attachment");
                await Assertions.Expect(chip).ToHaveAttributeAsync("data-inline", "true");
                await Assertions.Expect(chip).ToContainTextAsync("screenshot.png");
                await Assertions.Expect(text).ToHaveValueAsync(new System.Text.RegularExpressions.Regex(@"^This one:\n!\[screenshot\.png\]\(cid:img-[0-9a-f]{24}@[^)]+\)$"));
                await Assertions.Expect(page.GetByTestId("send-reply")).ToBeEnabledAsync();
                // The composer scrolls within itself: show its foot, where the attachments are.
                await page.GetByTestId("composer").EvaluateAsync("c => { c.scrollTop = c.scrollHeight; }");
                await op.ScreenshotAsync($"composer-pasted-image-{theme}-{width}");

                await page.GetByTestId("tab-preview").ClickAsync();
                var image = page.FrameLocator("[data-testid=reply-preview]").Locator("img[alt='screenshot.png']");
                await Assertions.Expect(image).ToBeVisibleAsync();
                Assert.Equal(240, await image.EvaluateAsync<int>("i => i.complete ? i.naturalWidth : 0"));
                await page.GetByTestId("reply-preview").EvaluateAsync("f => f.scrollIntoView({ block: 'end' })");
                await op.ScreenshotAsync($"composer-pasted-image-preview-{theme}-{width}");
                if (!sends)
                    return;
                await page.GetByTestId("send-reply").ClickAsync();
                await Assertions.Expect(page.GetByTestId("delivery")).ToHaveTextAsync("Sent", new() { Timeout = 30_000 });
                // The thread shows the sent image, loaded from our own attachment URL.
                var shown = page.GetByTestId("message").Last.Locator("iframe.c1-mail-frame").First.ContentFrame.Locator("img[alt='screenshot.png']");
                await Assertions.Expect(shown).ToHaveAttributeAsync("src", new System.Text.RegularExpressions.Regex(@"^/files/attachments/\d+$"));
                await Assertions.Expect(shown).ToHaveJSPropertyAsync("naturalWidth", 240);
            });
        }

        var sent = (await fixture.Relay.WaitForAsync(1)).Single().Message;
        var related = Assert.IsType<MultipartRelated>(Assert.IsType<MultipartAlternative>(sent.Body)[1]);
        var part = Assert.IsType<MimePart>(related[1]);
        Assert.Equal("screenshot.png", part.FileName);
        Assert.Contains($"<img src=\"cid:{part.ContentId}\" alt=\"screenshot.png\">", Assert.IsType<TextPart>(related.Root).Text);
        using var bytes = new MemoryStream();
        part.Content!.DecodeTo(bytes);
        Assert.Equal(pasted, bytes.ToArray());
    }

    [Fact]
    public async Task Hostile_Markdown_in_the_preview_runs_no_script_and_loads_nothing_remote()
    {
        await using var op = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress);
        var page = op.Page;
        var dialogs = new List<string>();
        var remote = new List<string>();
        var errors = new List<string>();
        page.Dialog += async (_, dialog) =>
        {
            dialogs.Add(dialog.Message);
            await dialog.DismissAsync();
        };
        page.Request += (_, request) =>
        {
            if (request.Url.Contains("evil.test", StringComparison.Ordinal))
                remote.Add(request.Url);
        };
        page.PageError += (_, error) => errors.Add(error);
        await op.RunAsync(async () =>
        {
            await op.SignInAsync(TestApp.AdminEmail, TestApp.AdminPassword, "/inbox");
            await page.GetByTestId("ticket-row").First.ClickAsync();
            await page.GetByTestId("reply-text").FillAsync("""
                **Preview done**

                <script>alert('script')</script>
                <img src="x" onerror="alert('onerror')">
                [click me](javascript:alert('link'))
                ![pixel](https://evil.test/pixel.png)
                <iframe src="https://evil.test/frame"></iframe>
                """);
            await page.GetByTestId("tab-preview").ClickAsync();
            var frame = page.FrameLocator("[data-testid=reply-preview]");
            // The positive signal: the preview rendered.
            await Assertions.Expect(frame.Locator("strong")).ToHaveTextAsync("Preview done");
            Assert.Equal(0, await frame.Locator("script, iframe, [onerror], [onload], a[href^='javascript']").CountAsync());
            // Raw HTML is shown as the text it is.
            await Assertions.Expect(frame.Locator("body")).ToContainTextAsync("<script>alert('script')</script>");
            await Assertions.Expect(frame.Locator("body")).ToContainTextAsync("<img src=\"x\" onerror=\"alert('onerror')\">");
            // The remote image is kept aside, not loaded; the link is inert.
            await Assertions.Expect(frame.Locator("img[alt=pixel]")).ToHaveAttributeAsync("data-remote-src", "https://evil.test/pixel.png");
            Assert.Null(await frame.Locator("img[alt=pixel]").GetAttributeAsync("src"));
            await frame.Locator("a", new() { HasText = "click me" }).ClickAsync();
            // Even the frame itself could not run script if something slipped through.
            var sandbox = await page.GetByTestId("reply-preview").GetAttributeAsync("sandbox");
            Assert.DoesNotContain("allow-scripts", sandbox);
            Assert.Equal(0, await page.GetByTestId("reply-preview").EvaluateAsync<int>("f => f.contentDocument.scripts.length"));
        });
        Assert.Empty(dialogs);
        Assert.Empty(remote);
        Assert.Empty(errors);
    }
}
