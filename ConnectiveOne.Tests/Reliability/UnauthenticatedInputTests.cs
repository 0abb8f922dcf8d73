using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.AspNetCore.Http.Metadata;
using MimeKit;
using Xunit.Abstractions;

namespace ConnectiveOne.Tests.Reliability;

/// <summary>
/// Nothing a caller without an account sends is read without a bound (issue #12): every anonymous route declares its
/// own body limit, and the Mailgun webhook, whose signature is inside the form, streams the form instead of buffering
/// it, refusing a forged request as soon as its signature is read.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class UnauthenticatedInputTests(ITestOutputHelper output)
{
    private const int MessageBytes = 25 * 1024 * 1024 - 4096;

    [Fact]
    public async Task Every_anonymous_route_declares_a_body_limit()
    {
        await using var app = new TestApp();
        var anonymous = EndpointTable.RoutesWithEndpoints(app.Services).Where(r => r.Route.Anonymous).ToList();
        foreach (var (route, endpoint) in anonymous)
        {
            var limit = endpoint.Metadata.GetMetadata<IRequestSizeLimitMetadata>()?.MaxRequestBodySize;
            output.WriteLine($"{route.Method} {route.Pattern}: {limit?.ToString() ?? "none"}");
            Assert.True(limit is not null, $"{route.Method} {route.Pattern} is anonymous but declares no body limit (RequestBodyLimits).");
        }
        // The routes the issue names are among them, with limits that fit what they take.
        Assert.Equal(0, Limit(anonymous, "GET", "/health"));
        Assert.True(Limit(anonymous, "POST", "/api/v1/tokens") <= 16 * 1024);
        Assert.True(Limit(anonymous, "GET", "/account/login") <= 64 * 1024);
        Assert.True(Limit(anonymous, "GET", "/setup/first-admin") <= 64 * 1024);
        Assert.Equal(26_214_400, Limit(anonymous, "POST", "/api/v1/inbound/mime"));
        Assert.Equal(2 * 26_214_400 + 65536, Limit(anonymous, "POST", "/api/v1/inbound/mailgun"));
    }

    // Pages are listed once as GET; their endpoint also takes the form POST.
    private static long? Limit(IEnumerable<(AppRoute Route, Microsoft.AspNetCore.Http.Endpoint Endpoint)> routes, string method, string pattern) =>
        routes.Single(r => r.Route.Pattern == pattern && r.Route.Method == method)
            .Endpoint.Metadata.GetMetadata<IRequestSizeLimitMetadata>()?.MaxRequestBodySize;

    [Fact]
    public async Task A_large_body_to_the_token_route_and_the_sign_in_form_is_refused_with_413()
    {
        await using var app = new TestApp().StartKestrel();
        // Kestrel itself, where the limits are enforced (the in-memory test server has none). "Expect: 100-continue" with
        // no time limit: the body goes out only if the server asks for it, so a refusal before reading (the declared
        // length is over the limit) reaches the client instead of racing the reset of a connection closed mid-body.
        using var client = new HttpClient(new SocketsHttpHandler { Expect100ContinueTimeout = TimeSpan.FromMinutes(1) }) { BaseAddress = new Uri(app.ServerAddress) };
        client.DefaultRequestHeaders.ExpectContinue = true;
        var json = new StringContent($"{{\"email\":\"{new string('a', 1024 * 1024)}@example.test\",\"password\":\"x\"}}", Encoding.UTF8, "application/json");
        var token = await client.PostAsync("/api/v1/tokens", json);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, token.StatusCode);
        Assert.Equal("application/problem+json", token.Content.Headers.ContentType?.MediaType);
        output.WriteLine(await token.Content.ReadAsStringAsync());
        Assert.Contains("larger than this route accepts", await token.Content.ReadAsStringAsync());

        // The sign-in form with a valid antiforgery token: without the limit it is read in full and answered 200 (the form
        // again, "not an email address"); with it, reading stops at 64 KB and the post is refused.
        using var browser = new HttpClient(new SocketsHttpHandler { UseCookies = false, Expect100ContinueTimeout = TimeSpan.FromMinutes(1) })
            { BaseAddress = new Uri(app.ServerAddress) };
        var page = await browser.GetAsync("/account/login");
        var cookies = string.Join("; ", page.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]));
        var antiforgery = System.Text.RegularExpressions.Regex.Match(await page.Content.ReadAsStringAsync(),
            "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
        var post = new HttpRequestMessage(HttpMethod.Post, "/account/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = WebUtility.HtmlDecode(antiforgery),
                ["_handler"] = "login",
                ["Input.Email"] = new('a', 1024 * 1024),
                ["Input.Password"] = "x",
            }),
        };
        post.Headers.Add("Cookie", cookies);
        post.Headers.ExpectContinue = true;
        var login = await RefusalAsync(app, browser, post);
        Assert.True(login is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge, $"{(int)login}");
    }

    /// <summary>
    /// The status the server answered a too-large request with. Refusing, it closes the connection with the rest of the
    /// body unread, and the client, still sending, may see that reset before it reads the answer: then the answer is
    /// taken from the server's request log instead.
    /// </summary>
    private async Task<HttpStatusCode> RefusalAsync(TestApp app, HttpClient client, HttpRequestMessage request)
    {
        var line = $"HTTP {request.Method} {request.RequestUri} responded ";
        try
        {
            return (await client.SendAsync(request)).StatusCode;
        }
        catch (HttpRequestException e)
        {
            output.WriteLine($"The connection ended while the body was sent ({e.Message}); reading the answer from the log");
            var logs = await app.WaitForLogsAsync(l => l.Contains(line, StringComparison.Ordinal));
            var at = logs.IndexOf(line, StringComparison.Ordinal);
            Assert.True(at >= 0, $"{request.Method} {request.RequestUri} failed on the client and the server logged no answer to it");
            return (HttpStatusCode)int.Parse(logs.AsSpan(at + line.Length, 3));
        }
    }

    [Fact]
    public async Task A_forged_mailgun_signature_before_the_message_is_refused_before_the_message_is_read()
    {
        await using var inbound = new InboundApp();
        inbound.App.StartKestrel();
        var address = await InboundAddresses.AddAsync(inbound.App.Services, "support@early.test");
        var uri = new Uri(inbound.App.ServerAddress);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, uri.Port);
        var stream = tcp.GetStream();
        const string boundary = "early-boundary";
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString();
        var head = Field(boundary, "timestamp", now) + Field(boundary, "token", "early-1") + Field(boundary, "signature", new string('0', 64))
            + Field(boundary, "recipient", address.TechnicalAddress)
            + $"--{boundary}\r\nContent-Disposition: form-data; name=\"body-mime\"\r\n\r\nSubject: x\r\n\r\n";
        // Declares 20 MB but sends only the head: an answer can only come from the fields already read.
        var request = $"POST /api/v1/inbound/mailgun HTTP/1.1\r\nHost: {uri.Authority}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
            + $"Content-Length: {20 * 1024 * 1024}\r\n\r\n" + head;
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var status = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.StartsWith("HTTP/1.1 401", status);
    }

    [Fact]
    public async Task A_mailgun_form_is_spooled_in_the_data_folder_and_the_spool_file_goes_with_the_request()
    {
        await using var inbound = new InboundApp();
        inbound.App.StartKestrel();
        var address = await InboundAddresses.AddAsync(inbound.App.Services, "support@spool.test");
        var spool = Path.Combine(inbound.App.DataDirectory, "spool");
        var uri = new Uri(inbound.App.ServerAddress);
        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(IPAddress.Loopback, uri.Port);
            var stream = tcp.GetStream();
            const string boundary = "spool-boundary";
            // The message first (the signature would come last): 100 KB of it, past the 32 KB kept in memory.
            var head = Field(boundary, "recipient", address.TechnicalAddress)
                + $"--{boundary}\r\nContent-Disposition: form-data; name=\"body-mime\"\r\n\r\nSubject: x\r\n\r\n"
                + new string('a', 100_000);
            var request = $"POST /api/v1/inbound/mailgun HTTP/1.1\r\nHost: {uri.Authority}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
                + $"Content-Length: {1024 * 1024}\r\n\r\n" + head;
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
            await WaitUntilAsync(() => Directory.Exists(spool) && Directory.EnumerateFiles(spool).Any(), "a spool file in the data folder");
        }
        // The client went away mid-form: the request ends and its spool file is deleted with it.
        await WaitUntilAsync(() => !Directory.EnumerateFiles(spool).Any(), "the spool file deleted after the request");
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), "Waited 30 s for " + what);
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task The_mailgun_form_is_accepted_with_the_signature_first_or_last_and_url_encoded()
    {
        await using var inbound = new InboundApp();
        var address = await InboundAddresses.AddAsync(inbound.App.Services, "support@forms.test");
        var client = inbound.App.CreateApiClient(token: null);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString();
        var mime = Mime("Signature first");

        var first = new MultipartFormDataContent
        {
            { new StringContent(now), "timestamp" },
            { new StringContent("first-1"), "token" },
            { new StringContent(Sign(now, "first-1")), "signature" },
            { new StringContent(address.TechnicalAddress), "recipient" },
            { new ByteArrayContent(mime), "body-mime" },
            { new ByteArrayContent(new byte[100_000]), "attachment-1", "big.bin" },
        };
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/api/v1/inbound/mailgun", first)).StatusCode);

        var encoded = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["recipient"] = address.TechnicalAddress,
            ["body-mime"] = Encoding.UTF8.GetString(Mime("Url encoded: 100% + ünïcode & more")),
            ["timestamp"] = now,
            ["token"] = "encoded-1",
            ["signature"] = Sign(now, "encoded-1"),
        });
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/api/v1/inbound/mailgun", encoded)).StatusCode);

        var subjects = await SubjectsAsync(inbound.App);
        Assert.Contains("Signature first", subjects);
        Assert.Contains("Url encoded: 100% + ünïcode & more", subjects);
    }

    [Fact]
    public async Task A_mailgun_form_over_the_limits_gets_413_or_400_in_words()
    {
        await using var inbound = new InboundApp(new Dictionary<string, string?> { ["ConnectiveOne:Smtp:MaxMessageBytes"] = "100000" });
        var address = await InboundAddresses.AddAsync(inbound.App.Services, "support@limits.test");
        var client = inbound.App.CreateApiClient(token: null);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString();
        MultipartFormDataContent Form(string token, byte[] mime, string? extraName = null, byte[]? extra = null)
        {
            var form = new MultipartFormDataContent
            {
                { new StringContent(address.TechnicalAddress), "recipient" },
                { new ByteArrayContent(mime), "body-mime" },
            };
            if (extraName is not null)
                form.Add(new ByteArrayContent(extra!), extraName);
            form.Add(new StringContent(now), "timestamp");
            form.Add(new StringContent(token), "token");
            form.Add(new StringContent(Sign(now, token)), "signature");
            return form;
        }

        var tooLarge = await client.PostAsync("/api/v1/inbound/mailgun", Form("limit-1", Pad(Mime("Too large"), 100_001)));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Contains("larger than the limit of 100000 bytes", await tooLarge.Content.ReadAsStringAsync());

        var longField = await client.PostAsync("/api/v1/inbound/mailgun", Form("limit-2", Mime("Fits"), "recipient", new byte[20_000]));
        Assert.Equal(HttpStatusCode.BadRequest, longField.StatusCode);
        Assert.Contains("The form field 'recipient' is longer than", await longField.Content.ReadAsStringAsync());

        // The whole form may hold the message twice (Mailgun's attachments) and a little more: past that, 413.
        var padded = await client.PostAsync("/api/v1/inbound/mailgun", Form("limit-3", Mime("Fits"), "attachment-1", new byte[300_000]));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, padded.StatusCode);

        var fits = await client.PostAsync("/api/v1/inbound/mailgun", Form("limit-4", Pad(Mime("Fits exactly"), 100_000)));
        Assert.Equal(HttpStatusCode.OK, fits.StatusCode);
    }

    /// <summary>
    /// The issue's test: 50 forged 25 MB Mailgun requests at once against the app as its own process, signature fields
    /// last (the worst order: the whole message must be read before the signature can be checked). The issue's bound:
    /// the process's RSS grows by less than 100 MB, and <c>/health</c> answers throughout.
    /// </summary>
    [Fact]
    public async Task Fifty_forged_25_MB_mailgun_requests_in_parallel_grow_memory_less_than_100_MB_and_health_answers()
    {
        await using var app = new AppProcess();
        app.Environment["ConnectiveOne__Inbound__MailgunSigningKey"] = InboundApp.MailgunKey;
        await app.StartAsync();
        const string boundary = "forged-boundary";
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString();
        var payload = ForgedForm(boundary, now, "warm-up", 64 * 1024);
        using var http = new HttpClient { BaseAddress = new Uri(app.BaseUrl), Timeout = TimeSpan.FromMinutes(5) };
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(http, payload, boundary)).StatusCode);

        payload = ForgedForm(boundary, now, "forged", MessageBytes);
        var baseline = RssBytes(app.ProcessId);
        using var done = new CancellationTokenSource();
        var peak = baseline;
        var sampler = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                peak = Math.Max(peak, RssBytes(app.ProcessId));
                await Task.Delay(20);
            }
        });
        var health = Task.Run(async () =>
        {
            using var probe = new HttpClient { BaseAddress = new Uri(app.BaseUrl), Timeout = TimeSpan.FromSeconds(10) };
            var (asked, answered, slowest, failures) = (0, 0, TimeSpan.Zero, new List<string>());
            while (!done.IsCancellationRequested)
            {
                asked++;
                var started = Stopwatch.StartNew();
                try
                {
                    var status = (await probe.GetAsync("/health")).StatusCode;
                    if (status == HttpStatusCode.OK)
                        answered++;
                    else
                        failures.Add($"{(int)status}");
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    failures.Add($"{e.GetType().Name} after {started.Elapsed.TotalSeconds:0.0} s");
                }
                slowest = started.Elapsed > slowest ? started.Elapsed : slowest;
                await Task.Delay(100);
            }
            return (asked, answered, slowest, failures);
        });

        var clock = Stopwatch.StartNew();
        var statuses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(async () => (await PostAsync(http, payload, boundary)).StatusCode)));
        var seconds = clock.Elapsed.TotalSeconds;
        await done.CancelAsync();
        await sampler;
        var (asked, answered, slowest, failures) = await health;

        var growth = (peak - baseline) / 1024.0 / 1024.0;
        output.WriteLine($"50 × {payload.Length / 1024.0 / 1024.0:0.0} MB forged in {seconds:0.0} s: RSS {baseline / 1048576.0:0} MB before, " +
            $"peak {peak / 1048576.0:0} MB, growth {growth:0.0} MB; /health answered {answered}/{asked}, slowest {slowest.TotalSeconds:0.00} s " +
            string.Join(", ", failures));
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        Assert.True(growth < 100, $"RSS grew by {growth:0.0} MB (bound 100 MB)");
        Assert.True(asked >= 3, $"/health was asked only {asked} times");
        Assert.Equal(asked, answered);
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient http, byte[] payload, string boundary)
    {
        var content = new ByteArrayContent(payload);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={boundary}");
        return http.PostAsync("/api/v1/inbound/mailgun", content);
    }

    /// <summary>A Mailgun form with a message of <paramref name="size"/> bytes and a wrong signature after it.</summary>
    private static byte[] ForgedForm(string boundary, string timestamp, string token, int size)
    {
        var head = Encoding.ASCII.GetBytes(Field(boundary, "recipient", "nobody@inbound.localhost")
            + $"--{boundary}\r\nContent-Disposition: form-data; name=\"body-mime\"\r\n\r\nSubject: forged\r\n\r\n");
        var tail = Encoding.ASCII.GetBytes("\r\n" + Field(boundary, "timestamp", timestamp) + Field(boundary, "token", token)
            + Field(boundary, "signature", new string('0', 64)) + $"--{boundary}--\r\n");
        var form = new byte[head.Length + size + tail.Length];
        head.CopyTo(form, 0);
        form.AsSpan(head.Length, size).Fill((byte)'x');
        tail.CopyTo(form, head.Length + size);
        return form;
    }

    private static string Field(string boundary, string name, string value) =>
        $"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n";

    private static long RssBytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:"));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }

    private static string Sign(string timestamp, string token) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(InboundApp.MailgunKey), Encoding.UTF8.GetBytes(timestamp + token)));

    private static byte[] Mime(string subject)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("jo@customer.test"));
        message.To.Add(MailboxAddress.Parse("support@example.test"));
        message.Subject = subject;
        message.MessageId = $"{Guid.NewGuid():N}@customer.test";
        message.Body = new TextPart("plain") { Text = "Hello" };
        using var bytes = new MemoryStream();
        message.WriteTo(bytes);
        return bytes.ToArray();
    }

    /// <summary>The message grown to exactly <paramref name="size"/> bytes by text after its body.</summary>
    private static byte[] Pad(byte[] mime, int size)
    {
        var padded = new byte[size];
        mime.CopyTo(padded, 0);
        padded.AsSpan(mime.Length).Fill((byte)'a');
        return padded;
    }

    private static async Task<List<string>> SubjectsAsync(TestApp app)
    {
        var list = await app.CreateApiClient().GetFromJsonAsync<JsonElement>("/api/v1/tickets");
        return list.GetProperty("items").EnumerateArray().Select(t => t.GetProperty("subject").GetString()!).ToList();
    }
}
