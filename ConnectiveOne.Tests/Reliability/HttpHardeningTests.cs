using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Tickets;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using ConnectiveOne.Tests.TestSupport;
using MimeKit;

namespace ConnectiveOne.Tests.Reliability;

/// <summary>
/// The HTTP "lows" of issue #12, each against the app over a real socket where the transport matters (proxy headers,
/// WebSocket upgrades): who may read the OpenAPI document, HTTPS behind a proxy, WebSocket origins, the test-mail limit,
/// problem details for unhandled API errors, a non-ASCII return URL at sign-in, and no caching of downloads.
/// </summary>
[Trait("Category", "Reliability")]
public sealed partial class HttpHardeningTests
{
    [Fact]
    public async Task The_openapi_document_needs_a_signed_in_caller_and_is_served_from_memory_after_the_first_request()
    {
        await using var app = new TestApp();
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateApiClient(token: null).GetAsync("/openapi/v1.json")).StatusCode);

        var api = app.CreateApiClient();
        var first = await api.GetAsync("/openapi/v1.json");
        var second = await api.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        // The output cache marks what it serves from memory with Age.
        Assert.Null(first.Headers.Age);
        Assert.NotNull(second.Headers.Age);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Behind_a_known_https_proxy_the_sign_in_cookie_is_secure_and_hsts_is_sent()
    {
        await using var app = new TestApp().StartKestrel();
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false })
        {
            BaseAddress = new Uri(app.ServerAddress),
        };
        // The app listens on loopback, where a reverse proxy on the same machine is trusted by default.
        var signIn = await SignInAsync(http, "/account/login", forwardedProto: "https");
        Assert.Equal(HttpStatusCode.Found, signIn.StatusCode);
        var cookie = signIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("ConnectiveOne.Auth="));
        Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("max-age=31536000", signIn.Headers.GetValues("Strict-Transport-Security").Single());

        // Plain HTTP without the proxy's word: no Secure flag (the browser would drop the cookie), no HSTS.
        var plain = await SignInAsync(http, "/account/login", forwardedProto: null);
        Assert.DoesNotContain("secure", plain.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("ConnectiveOne.Auth=")),
            StringComparison.OrdinalIgnoreCase);
        Assert.False(plain.Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public async Task Forwarded_headers_are_believed_only_from_the_configured_proxies()
    {
        await using var app = new TestApp(settings: new Dictionary<string, string?>
        {
            ["ConnectiveOne:ForwardedHeaders:KnownProxies"] = "192.0.2.10, 198.51.100.0/24",
        }).StartKestrel();
        using var http = new HttpClient { BaseAddress = new Uri(app.ServerAddress) };
        var request = new HttpRequestMessage(HttpMethod.Get, "/account/login");
        request.Headers.Host = "helpdesk.example.test";
        request.Headers.Add("X-Forwarded-Proto", "https");
        var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("Strict-Transport-Security"), "127.0.0.1 is not a configured proxy: its X-Forwarded-Proto must be ignored");

        // The same request from a trusted proxy (loopback, the default) is HTTPS.
        await using var trusting = new TestApp().StartKestrel();
        using var trusted = new HttpClient { BaseAddress = new Uri(trusting.ServerAddress) };
        var again = new HttpRequestMessage(HttpMethod.Get, "/account/login");
        again.Headers.Host = "helpdesk.example.test";
        again.Headers.Add("X-Forwarded-Proto", "https");
        Assert.True((await trusted.SendAsync(again)).Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public void A_known_proxies_entry_that_is_not_an_address_stops_the_start_with_the_key_named()
    {
        using var app = new TestApp(settings: new Dictionary<string, string?> { ["ConnectiveOne:ForwardedHeaders:KnownProxies"] = "proxy.example" });
        var error = Assert.ThrowsAny<Exception>(() => app.Services);
        Assert.Contains("ConnectiveOne:ForwardedHeaders:KnownProxies", error.ToString());
    }

    [Fact]
    public async Task WebSocket_upgrades_from_another_origin_are_refused()
    {
        await using var app = new TestApp(settings: new Dictionary<string, string?> { ["ConnectiveOne:PublicUrl"] = "https://helpdesk.example.test" })
            .StartKestrel();
        var ws = app.ServerAddress.Replace("http://", "ws://");
        var own = app.ServerAddress;

        // The live hub with a valid token: the origin alone decides.
        Assert.Equal(HttpStatusCode.Forbidden, await UpgradeAsync($"{ws}/hubs/live?access_token={TestApp.AdminToken}", "https://evil.example"));
        Assert.Equal(HttpStatusCode.SwitchingProtocols, await UpgradeAsync($"{ws}/hubs/live?access_token={TestApp.AdminToken}", own));
        Assert.Equal(HttpStatusCode.SwitchingProtocols,
            await UpgradeAsync($"{ws}/hubs/live?access_token={TestApp.AdminToken}", "https://helpdesk.example.test"));
        Assert.Equal(HttpStatusCode.SwitchingProtocols, await UpgradeAsync($"{ws}/hubs/live?access_token={TestApp.AdminToken}", origin: null));
        // The Blazor circuit: another origin is refused before sign-in is even looked at.
        Assert.Equal(HttpStatusCode.Forbidden, await UpgradeAsync($"{ws}/_blazor", "https://evil.example"));
        Assert.Equal(HttpStatusCode.Forbidden, await UpgradeAsync($"{ws}/_blazor", "null"));
        Assert.NotEqual(HttpStatusCode.Forbidden, await UpgradeAsync($"{ws}/_blazor", own));
    }

    private static async Task<HttpStatusCode> UpgradeAsync(string url, string? origin)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (origin is not null)
            socket.Options.SetRequestHeader("Origin", origin);
        try
        {
            await socket.ConnectAsync(new Uri(url), CancellationToken.None);
            return socket.HttpStatusCode;
        }
        catch (WebSocketException)
        {
            return socket.HttpStatusCode;
        }
    }

    [Fact]
    public async Task An_admin_gets_429_after_ten_test_emails_in_ten_minutes()
    {
        await using var app = new TestApp();
        var address = await MailSeed.AddressAsync(app, "support@throttle.test", DomainStatus.Verified);
        var api = app.CreateApiClient();
        for (var i = 0; i < 10; i++)
        {
            var sent = await api.PostAsJsonAsync($"/api/v1/addresses/{address.Id}/test", new { to = "someone@example.org" });
            Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
        }
        var refused = await api.PostAsJsonAsync($"/api/v1/addresses/{address.Id}/test", new { to = "someone@example.org" });
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("You sent 10 test emails in the last 10 minutes", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("title").GetString());
        Assert.Equal(HttpStatusCode.TooManyRequests, (await api.PostAsync($"/api/v1/addresses/{address.Id}/forwarding-test", null)).StatusCode);

        // Another admin has a budget of their own.
        var other = app.CreateApiClient(await app.CreateUserWithTokenAsync("second-admin@example.test", "Admin"));
        Assert.Equal(HttpStatusCode.OK, (await other.PostAsJsonAsync($"/api/v1/addresses/{address.Id}/test", new { to = "someone@example.org" })).StatusCode);
    }

    [Fact]
    public async Task An_unhandled_error_on_an_api_route_answers_problem_details_not_the_error_page()
    {
        await using var app = new TestApp();
        // A fault inside the endpoint: the ticket queries cannot be made.
        using var failing = app.WithWebHostBuilder(web => web.ConfigureTestServices(services =>
            services.AddScoped<TicketQueries>(_ => throw new InvalidOperationException("the database went away"))));
        var client = failing.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestApp.AdminToken);
        var response = await client.GetAsync("/api/v1/attachments/1");
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        Assert.StartsWith("Something went wrong on the server", JsonDocument.Parse(body).RootElement.GetProperty("title").GetString());
        Assert.DoesNotContain("at ConnectiveOne", body);
        Assert.DoesNotContain("the database went away", body);
    }

    [Fact]
    public async Task A_multipart_body_the_form_reader_cannot_parse_is_a_400_in_words()
    {
        await using var app = new TestApp();
        // A multipart reply without a boundary: the form reader refuses it. Before, this answered 500.
        var content = new StringContent("text=hello", Encoding.UTF8);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("multipart/form-data");
        var response = await app.CreateApiClient().PostAsync("/api/v1/tickets/1/replies", content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("The request could not be read: Missing content-type boundary.", problem.GetProperty("title").GetString());
    }

    [Fact]
    public async Task Signing_in_with_a_non_ascii_return_url_redirects_there_percent_encoded()
    {
        await using var app = new TestApp().StartKestrel();
        using var client = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false })
        {
            BaseAddress = new Uri(app.ServerAddress),
        };
        var response = await SignInAsync(client, "/account/login?ReturnUrl=%2Ftickets%3Fq%3Dcaf%C3%A9%20%E2%9C%93", forwardedProto: null);
        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.EndsWith("/tickets?q=caf%C3%A9%20%E2%9C%93", location.OriginalString);
        Assert.True(!location.IsAbsoluteUri || location.Host == "helpdesk.example.test", location.OriginalString);
    }

    [Fact]
    public async Task Attachment_and_raw_downloads_are_not_cached()
    {
        await using var inbound = new InboundApp();
        var address = await InboundAddresses.AddAsync(inbound.App.Services, "support@downloads.test");
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("jo@customer.test"));
        message.To.Add(MailboxAddress.Parse("support@downloads.test"));
        message.Subject = "With a file";
        var body = new BodyBuilder { TextBody = "See attached." };
        body.Attachments.Add("invoice.pdf", Encoding.ASCII.GetBytes("%PDF-1.4 not really"), new ContentType("application", "pdf"));
        message.Body = body.ToMessageBody();
        using var raw = new MemoryStream();
        await message.WriteToAsync(raw);
        var api = inbound.App.CreateApiClient(token: null);
        api.DefaultRequestHeaders.Add("X-Webhook-Token", InboundApp.WebhookToken);
        var accepted = await api.PostAsync($"/api/v1/inbound/mime?recipient={address.TechnicalAddress}", new ByteArrayContent(raw.ToArray()));
        var delivery = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("deliveries")[0];
        var ticket = await inbound.App.CreateApiClient().GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{delivery.GetProperty("ticketId").GetInt64()}");
        var stored = ticket.GetProperty("messages")[0];
        var attachment = stored.GetProperty("attachments")[0].GetProperty("id").GetInt64();
        var messageId = stored.GetProperty("id").GetInt64();

        var admin = inbound.App.CreateApiClient();
        foreach (var url in new[] { $"/api/v1/attachments/{attachment}", $"/api/v1/messages/{messageId}/raw" })
        {
            var response = await admin.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True(response.Headers.CacheControl?.NoStore, $"{url}: Cache-Control is '{response.Headers.CacheControl}'");
        }
        var browser = inbound.App.CreateClient(new() { AllowAutoRedirect = false });
        await CookieSignIn.SignInAsync(browser, TestApp.AdminEmail, TestApp.AdminPassword);
        foreach (var url in new[] { $"/files/attachments/{attachment}", $"/files/messages/{messageId}/raw" })
            Assert.True((await browser.GetAsync(url)).Headers.CacheControl?.NoStore, url);
    }

    /// <summary>Posts the sign-in form as the admin, carrying cookies by hand (a Secure cookie must come back over plain HTTP here).</summary>
    private static async Task<HttpResponseMessage> SignInAsync(HttpClient http, string url, string? forwardedProto)
    {
        var page = new HttpRequestMessage(HttpMethod.Get, url);
        if (forwardedProto is not null)
            page.Headers.Add("X-Forwarded-Proto", forwardedProto);
        var form = await http.SendAsync(page);
        var cookies = form.Headers.TryGetValues("Set-Cookie", out var set) ? string.Join("; ", set.Select(c => c.Split(';')[0])) : "";
        var token = AntiforgeryField().Match(await form.Content.ReadAsStringAsync()).Groups[1].Value;
        var post = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token),
                ["_handler"] = "login",
                ["Input.Email"] = TestApp.AdminEmail,
                ["Input.Password"] = TestApp.AdminPassword,
            }),
        };
        if (cookies.Length > 0)
            post.Headers.Add("Cookie", cookies);
        if (forwardedProto is not null)
            post.Headers.Add("X-Forwarded-Proto", forwardedProto);
        // Not localhost: HSTS is never sent to localhost or 127.0.0.1.
        post.Headers.Host = "helpdesk.example.test";
        return await http.SendAsync(post);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
