using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Tests.Browser;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.Playwright;
using MimeKit;
using Xunit.Abstractions;

namespace ConnectiveOne.Tests.Reliability;

/// <summary>
/// The OWASP vectors and hostile attachment names sent in as mail over SMTP and opened in Chromium, the way an
/// operator opens them: no dialog, no <c>window.pwned</c>, no request to another host before "Show images"; names
/// shown as text; downloads that cannot become a page of ours. Also: the console's CSP refuses an inline script.
/// </summary>
[Trait("Category", "Reliability")]
[Collection(BrowserCollection.Name)]
[Trait("Database", "Sqlite")] // what the page shows and how it is operated, not the provider: API and integration tests cover both databases
public sealed class HostileHtmlBrowserTests(ChromiumFixture chromium, ITestOutputHelper output) : IAsyncLifetime
{
    private const int VectorsPerMail = 28;
    private readonly InboundApp _inbound = new(new Dictionary<string, string?> { ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain });
    private TestApp App => _inbound.App;

    public Task InitializeAsync()
    {
        App.StartKestrel();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _inbound.DisposeAsync();

    private static MimeMessage VectorMail(int batch, IEnumerable<XssVector> vectors)
    {
        var html = new StringBuilder($"<p>Hostile batch {batch} marker</p>\n");
        foreach (var vector in vectors)
            html.Append("<div>").Append(vector.Html).Append("</div>\n");
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Mallory", "mallory@attacker.test"));
        message.To.Add(MailboxAddress.Parse("support@acme.test"));
        message.Subject = $"Hostile batch {batch}";
        message.Body = new BodyBuilder { HtmlBody = html.ToString(), TextBody = "batch" }.ToMessageBody();
        return message;
    }

    /// <summary>Written by hand so the names arrive exactly as an attacker encodes them (RFC 2231 and RFC 2047).</summary>
    private static MimeMessage AttachmentMail()
    {
        static string Part(string headers, string body) =>
            $"--b1\r\n{headers}\r\nContent-Transfer-Encoding: base64\r\n\r\n{Convert.ToBase64String(Encoding.UTF8.GetBytes(body))}\r\n";
        const string page = "<html><body><script>window.top.pwned='attachment';alert('attachment')</script><img src=x onerror=alert(1)>" +
                            "<img src=\"http://tracker.example/attachment\"></body></html>";
        var raw = "From: Mallory <mallory@attacker.test>\r\nTo: support@acme.test\r\nSubject: Hostile attachments\r\n" +
                  "Message-ID: <hostile-attachments@attacker.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n" +
                  "--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hostile attachments marker</p>\r\n" +
                  Part("Content-Type: image/svg+xml; name=\"invoice.svg\"\r\nContent-Disposition: attachment; filename=\"invoice.svg\"",
                      "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert('svg')\"><script>window.top.pwned='svg'</script></svg>") +
                  Part("Content-Type: image/png; name=\"photo.png\"\r\nContent-Disposition: attachment; filename=\"photo.png\"", page) +
                  Part("Content-Type: text/html; name=\"page.html\"\r\nContent-Disposition: attachment; filename=\"page.html\"", page) +
                  Part("Content-Type: text/plain\r\nContent-Disposition: attachment; filename=\"../../../etc/passwd\"", "root:x:0:0") +
                  Part("Content-Type: text/plain\r\nContent-Disposition: attachment; filename=\"..\\\\..\\\\windows\\\\win.ini\"", "[fonts]") +
                  Part("Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"<img src=x onerror=alert('name')>.pdf\"", "%PDF-1.4") +
                  Part("Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"quote\\\"d 'name'.pdf\"", "%PDF-1.4") +
                  Part("Content-Type: application/pdf\r\nContent-Disposition: attachment; filename*=utf-8''evil%0d%0aSet-Cookie%3a%20a%3d1.pdf", "%PDF-1.4") +
                  Part("Content-Type: application/pdf; name=\"=?utf-8?q?crlf=0D=0AX-Injected=3A_1.pdf?=\"\r\nContent-Disposition: attachment; filename=\"=?utf-8?q?crlf=0D=0AX-Injected=3A_1.pdf?=\"", "%PDF-1.4") +
                  Part("Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename*=utf-8''invoice%E2%80%AEfdp.exe", "MZ") +
                  "--b1--\r\n";
        return MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(raw)));
    }

    private sealed class Observer
    {
        public List<string> Outside { get; } = [];
        public List<string> Dialogs { get; } = [];

        public void Watch(BrowserPage op, string app)
        {
            op.Page.Context.Request += (_, request) =>
            {
                if (!request.Url.StartsWith(app, StringComparison.Ordinal) && !request.Url.StartsWith("about:") && !request.Url.StartsWith("data:"))
                    lock (Outside)
                        Outside.Add(request.Url);
            };
            op.Page.Dialog += (_, dialog) =>
            {
                lock (Dialogs)
                    Dialogs.Add(dialog.Message);
                _ = dialog.DismissAsync();
            };
        }
    }

    [Fact]
    public async Task Hostile_mail_runs_nothing_leaks_nothing_and_names_stay_text()
    {
        var technical = await MailSeed.AddressServedByBotAsync(App);
        var batches = XssVectors.All.Chunk(VectorsPerMail).ToList();
        for (var i = 0; i < batches.Count; i++)
            await _inbound.SendAsync(VectorMail(i + 1, batches[i]), technical);
        await _inbound.SendAsync(AttachmentMail(), technical);

        var api = App.CreateApiClient();
        var list = await api.GetFromJsonAsync<JsonElement>("/api/v1/tickets?pageSize=200");
        var tickets = list.GetProperty("items").EnumerateArray()
            .Select(t => (Id: t.GetProperty("id").GetInt64(), Subject: t.GetProperty("subject").GetString()!)).ToList();
        Assert.Equal(batches.Count + 1, tickets.Count);

        await using var op = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress);
        var seen = new Observer();
        seen.Watch(op, App.ServerAddress);
        var pwned = new List<string>();
        await op.RunAsync(async () =>
        {
            await op.SignInAsync(TestApp.AdminEmail, TestApp.AdminPassword, "/inbox");
            foreach (var (id, subject) in tickets)
            {
                await op.Page.Locator($"[data-testid='ticket-row'][data-ticket='{id}']").ClickAsync();
                var marker = subject + " marker";
                var frame = op.Page.Locator($"[data-testid='ticket-view'][data-ticket='{id}'] iframe.c1-mail-frame").First.ContentFrame;
                await Assertions.Expect(frame.GetByText(marker, new() { Exact = false })).ToBeVisibleAsync();
                // What an operator might do: move over every element and click every link that is not a plain web link
                // (those open a new tab on purpose: that request is the operator's choice, not the mail's).
                await frame.Locator("body").EvaluateAsync(
                    "b => b.querySelectorAll('*').forEach(e => ['mouseover', 'pointerover', 'mouseenter', 'focus', 'toggle', 'animationstart']" +
                    ".forEach(t => e.dispatchEvent(new Event(t))))");
                foreach (var link in await frame.Locator("a:not([href^='http']):not([href^='//']):not([href^='mailto'])").AllAsync())
                {
                    try
                    {
                        await link.ClickAsync(new() { Timeout = 1_000, Force = true });
                    }
                    catch (PlaywrightException)
                    {
                        // An invisible link cannot be clicked by a person either.
                    }
                }
                // The page has run what the events queued: a rendering frame and a task later (no fixed wait). Bounded: an
                // evaluation's promise has no timeout of its own, and one that never settles would hold the whole run.
                try
                {
                    await op.Page.EvaluateAsync("() => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)))").WaitAsync(TimeSpan.FromSeconds(30));
                }
                catch (TimeoutException)
                {
                    Assert.Fail($"{subject}: the page drew no frame within 30 s after the clicks.");
                }
                if (await op.Page.EvaluateAsync<string?>("window.pwned ?? null") is { } p)
                    pwned.Add($"{subject}: {p}");
            }
        });

        List<string> leaked;
        lock (seen.Outside)
            leaked = [.. seen.Outside];
        output.WriteLine($"{XssVectors.All.Count} vectors in {batches.Count} mails + 1 attachment mail: " +
                         $"{seen.Dialogs.Count} dialogs, {pwned.Count} window.pwned, {leaked.Count} requests to other hosts before 'Show images'");
        Assert.True(seen.Dialogs.Count == 0, "dialogs: " + string.Join(", ", seen.Dialogs));
        Assert.True(pwned.Count == 0, "window.pwned: " + string.Join(", ", pwned));
        Assert.True(leaked.Count == 0, "requests left the browser: " + string.Join(", ", leaked));

        var attachmentsTicket = tickets.Single(t => t.Subject == "Hostile attachments").Id;
        await op.RunAsync(() => AttachmentNamesAreTextAsync(op, attachmentsTicket));
        await DownloadsCannotBecomePagesAsync(op, seen, api, attachmentsTicket);
    }

    private async Task AttachmentNamesAreTextAsync(BrowserPage op, long ticketId)
    {
        await op.Page.Locator($"[data-testid='ticket-row'][data-ticket='{ticketId}']").ClickAsync();
        var view = op.Page.Locator($"[data-testid='ticket-view'][data-ticket='{ticketId}']");
        await Assertions.Expect(view.GetByTestId("attachment")).ToHaveCountAsync(10);
        await op.ScreenshotAsync("reliability-hostile-attachments-1366");
        var names = await view.Locator("[data-testid='attachment'] .c1-attachment-name").AllTextContentsAsync();
        output.WriteLine("attachment names shown: " + string.Join(" | ", names));
        Assert.Equal(10, names.Count);
        Assert.Equal(0, await view.Locator("[data-testid='attachments'] img").CountAsync());
        Assert.Contains("<img src=x onerror=alert('name')>.pdf", names);
        Assert.All(names, n => Assert.True(n.IndexOfAny(['/', '\\', '\r', '\n', '\u202E']) < 0, $"unsafe name shown: {n}"));
    }

    private async Task DownloadsCannotBecomePagesAsync(BrowserPage op, Observer seen, HttpClient api, long ticketId)
    {
        var ticket = await api.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{ticketId}");
        var attachments = ticket.GetProperty("messages")[0].GetProperty("attachments").EnumerateArray()
            .Select(a => (Id: a.GetProperty("id").GetInt64(), Name: a.GetProperty("fileName").GetString()!,
                Type: a.GetProperty("contentType").GetString()!)).ToList();
        foreach (var (id, name, type) in attachments)
        {
            foreach (var url in new[] { $"/files/attachments/{id}?download=1", $"/api/v1/attachments/{id}", $"/files/attachments/{id}" })
            {
                var response = await op.Page.APIRequest.GetAsync(App.ServerAddress + url, new()
                {
                    Headers = url.StartsWith("/api") ? new Dictionary<string, string> { ["Authorization"] = "Bearer " + TestApp.AdminToken } : null,
                });
                Assert.True(response.Status == 200, $"{url} ({name}): {response.Status} {await response.TextAsync()}");
                var headers = response.Headers;
                var disposition = headers["content-disposition"];
                Assert.Equal("nosniff", headers["x-content-type-options"]);
                Assert.Equal("default-src 'none'; sandbox", headers["content-security-policy"]);
                Assert.True(disposition.IndexOfAny(['\r', '\n', '/', '\\']) < 0 && !disposition.Contains('\u202E'), $"{name}: {disposition}");
                var inlineImage = url == $"/files/attachments/{id}" && type is "image/png";
                Assert.True(disposition.StartsWith(inlineImage ? "inline" : "attachment"), $"{url} ({name}, {type}): {disposition}");
            }
        }

        // The HTML file typed image/png, opened as the page itself: Chromium shows an image (or nothing), never runs it.
        var png = attachments.Single(a => a.Name == "photo.png");
        await op.Page.GotoAsync($"/files/attachments/{png.Id}"); // returns once the document has loaded
        Assert.Equal("image/png", await op.Page.EvaluateAsync<string>("document.contentType"));
        Assert.Null(await op.Page.EvaluateAsync<string?>("window.pwned ?? null"));
        Assert.Equal(0, await op.Page.EvaluateAsync<int>("document.scripts.length"));
        lock (seen.Dialogs)
            Assert.Empty(seen.Dialogs);
        lock (seen.Outside)
            Assert.Empty(seen.Outside);
    }

    [Fact]
    public async Task The_console_csp_refuses_an_inline_script_injected_into_its_pages()
    {
        await using var op = await BrowserPage.OpenAsync(chromium.Browser, App.ServerAddress);
        var blocked = new List<string>();
        await op.RunAsync(async () =>
        {
            await op.Page.GotoAsync("/account/login");
            await InjectAsync(op, "/account/login", blocked);
            await op.SignInAsync(TestApp.AdminEmail, TestApp.AdminPassword, "/inbox");
            foreach (var path in (string[])["/inbox", "/settings", "/bots", "/account/tokens"])
            {
                await op.Page.GotoAsync(path);
                await op.WaitInteractiveAsync();
                await InjectAsync(op, path, blocked);
            }
        });
        output.WriteLine($"inline scripts injected into 5 pages: {blocked.Count} blocked by CSP, {5 - blocked.Count} ran");
        Assert.Equal(5, blocked.Count);
    }

    private static async Task InjectAsync(BrowserPage op, string path, List<string> blocked)
    {
        // Playwright evaluates through the DevTools protocol, which CSP does not govern; the injected tag is a real page script.
        await op.Page.EvaluateAsync("window.__violations = []; document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective))");
        try
        {
            await op.Page.AddScriptTagAsync(new() { Content = "window.__injected = 'ran';" });
        }
        catch (PlaywrightException)
        {
            // Playwright reports the refused script as an error on some versions; what counts is below.
        }
        // The positive signal first: the browser reported the refused inline script; then nothing may have run.
        try
        {
            await op.Page.WaitForFunctionAsync("() => (window.__violations || []).some(v => v.startsWith('script-src'))",
                null, new() { Timeout = 10_000, PollingInterval = 50 });
        }
        catch (TimeoutException)
        {
            // No report within 10 s: the assertion below says so with the violations seen.
        }
        var ran = await op.Page.EvaluateAsync<string?>("window.__injected ?? null");
        var violations = await op.Page.EvaluateAsync<string[]>("window.__violations");
        Assert.True(ran is null, $"an inline script ran on {path}");
        Assert.True(violations.Any(v => v.StartsWith("script-src")), $"no CSP violation reported on {path}: [{string.Join(", ", violations)}]");
        blocked.Add(path);
    }
}
