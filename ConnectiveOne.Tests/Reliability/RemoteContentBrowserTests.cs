using System.Text;
using ConnectiveOne.Tests.Browser;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.Playwright;
using MimeKit;
using Xunit.Abstractions;

namespace ConnectiveOne.Tests.Reliability;

/// <summary>
/// Every URL form of <see cref="RemoteUrlForms"/> in one mail, sent over SMTP and opened in Chromium, all pointing at a
/// loopback listener: not one request reaches it before "Show images", and after the click the images arrive.
/// </summary>
[Trait("Category", "Reliability")]
[Collection(BrowserCollection.Name)]
[Trait("Database", "Sqlite")] // what the page shows and how it is operated, not the provider: API and integration tests cover both databases
public sealed class RemoteContentBrowserTests(ChromiumFixture chromium, ITestOutputHelper output) : IAsyncLifetime
{
    private const string Subject = "Remote content forms";
    private readonly InboundApp _inbound = new(new Dictionary<string, string?> { ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain });
    private readonly RequestRecorder _tracker = new();

    public Task InitializeAsync()
    {
        _inbound.App.StartKestrel();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _inbound.DisposeAsync();
        await _tracker.DisposeAsync();
    }

    private static MimeMessage FormsMail(IEnumerable<RemoteUrlForm> forms)
    {
        var html = new StringBuilder($"<p>{Subject} marker</p>\n");
        foreach (var form in forms)
            html.Append("<div>").Append(form.Html).Append("</div>\n");
        // Last in the mail, our own inline image: once it has loaded and the frame's load event has fired, the browser
        // has fetched (or failed) everything above it.
        html.Append("<p><img id=\"c1-probe\" src=\"cid:probe@forms.test\" alt=\"probe\"></p>");
        var body = new BodyBuilder { HtmlBody = html.ToString(), TextBody = "forms" };
        var probe = body.LinkedResources.Add("probe.png",
            Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="),
            new ContentType("image", "png"));
        probe.ContentId = "probe@forms.test";
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Mallory", "mallory@attacker.test"));
        message.To.Add(MailboxAddress.Parse("support@acme.test"));
        message.Subject = Subject;
        message.Body = body.ToMessageBody();
        return message;
    }

    [Fact]
    public async Task No_url_form_reaches_the_tracker_before_show_images_and_the_images_do_after()
    {
        var app = _inbound.App;
        var forms = RemoteUrlForms.For(_tracker.Host);
        await _inbound.SendAsync(FormsMail(forms), await MailSeed.AddressServedByBotAsync(app));

        await using var op = await BrowserPage.OpenAsync(chromium.Browser, app.ServerAddress);
        var seen = new List<string>();
        op.Page.Context.Request += (_, request) =>
        {
            if (request.Url.Contains(_tracker.Host, StringComparison.Ordinal))
                lock (seen)
                    seen.Add(request.Url);
        };
        // Over plain HTTP the listener sees which form arrived; https:// ones only knock (a TLS handshake it closes).
        var shown = forms.Where(f => f.Revealed is { } r && (r.StartsWith("//") || r.StartsWith("http:"))).Select(f => "/" + f.Id).ToHashSet();
        int before = 0, browserBefore = 0;
        await op.RunAsync(async () =>
        {
            await op.SignInAsync(TestApp.AdminEmail, TestApp.AdminPassword, "/inbox");
            await op.Page.GetByTestId("ticket-row").Filter(new() { HasText = Subject }).ClickAsync();
            var frame = op.Page.Locator("iframe.c1-mail-frame").First.ContentFrame;
            await Assertions.Expect(frame.GetByText($"{Subject} marker")).ToBeVisibleAsync();
            await FrameLoadedAsync(frame);
            await Assertions.Expect(op.Page.GetByTestId("remote-images")).ToBeVisibleAsync();
            before = _tracker.Connections;
            lock (seen)
                browserBefore = seen.Count;
            output.WriteLine($"{forms.Count} URL forms: {before} connections to the tracker and {browserBefore} requests for it in the browser before 'Show images'");
            Assert.True(before == 0 && browserBefore == 0,
                $"reached the tracker before 'Show images': {string.Join(", ", _tracker.Paths)} / {string.Join(", ", seen)}");

            // The operator asks for images: the remote ones (those that are images) arrive, and nothing else does.
            await op.Page.GetByTestId("show-images").ClickAsync();
            await Assertions.Expect(op.Page.GetByTestId("remote-images")).ToHaveCountAsync(0);
            var revealed = op.Page.Locator("iframe.c1-mail-frame").First.ContentFrame;
            await Assertions.Expect(revealed.Locator($"img[src*='{_tracker.Host}']")).ToHaveCountAsync(forms.Count(f => f.Revealed is not null));
            await FrameLoadedAsync(revealed);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!shown.IsSubsetOf(_tracker.Paths) && DateTime.UtcNow < deadline)
                await Task.Delay(50);
            var arrived = _tracker.Paths.ToHashSet();
            output.WriteLine($"after 'Show images': {arrived.Count} of {shown.Count} expected images arrived over HTTP, " +
                             $"{_tracker.Connections} connections in all ({forms.Count(f => f.Revealed is not null) - shown.Count} forms are https://)");
            Assert.True(arrived.SetEquals(shown),
                $"missing: {string.Join(", ", shown.Except(arrived))}; not meant to load: {string.Join(", ", arrived.Except(shown))}");
        });
    }

    /// <summary>
    /// Waits until our inline image has loaded and the frame's document is complete (every resource fetched or failed).
    /// Asked again every 50 ms, within 30 s: a promise on the document's load event never settled once (the frame's
    /// document was replaced under it, or its load never came) and held the whole run until the 10-minute hang guard.
    /// </summary>
    private static async Task FrameLoadedAsync(IFrameLocator frame)
    {
        var probe = frame.Locator("#c1-probe");
        await Assertions.Expect(probe).ToHaveJSPropertyAsync("naturalWidth", 1);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string state;
        while ((state = await probe.EvaluateAsync<string>("e => e.ownerDocument.readyState")) != "complete")
        {
            Assert.True(DateTime.UtcNow < deadline, $"The mail frame is still '{state}' 30 s after our inline image loaded.");
            await Task.Delay(50);
        }
    }
}
