using ConnectiveOne.Tests.TestSupport;
using Microsoft.AspNetCore.Mvc.Testing;
using Xunit.Abstractions;

namespace ConnectiveOne.Tests.Reliability;

/// <summary>
/// Every GET route of the endpoint table (pages, API, downloads), requested as a signed-in admin, answers with a
/// Content-Security-Policy that allows no inline or eval'd script, no sniffing, no framing and no referrer leaks.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class SecurityHeadersTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly TestApp _app = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Every_route_sends_the_security_headers()
    {
        var client = _app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        await CookieSignIn.SignInAsync(client, TestApp.AdminEmail, TestApp.AdminPassword);
        var routes = EndpointTable.Routes(_app.Services).Where(r => r.Method == "GET").ToList();
        // Also what no route answers: the not-found page, a static file and the error page.
        var urls = routes.Select(r => (r.Url, r.IsApi)).Concat([("/no/such/page", false), ("/assets/app.css", false), ("/error", false)]).ToList();
        var failures = new List<string>();
        foreach (var (url, isApi) in urls)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (isApi)
                request.Headers.Authorization = new("Bearer", TestApp.AdminToken);
            var response = await client.SendAsync(request);
            foreach (var problem in Problems(response))
                failures.Add($"GET {url} ({(int)response.StatusCode}): {problem}");
        }
        output.WriteLine($"{urls.Count} GET routes ({routes.Count(r => r.IsPage)} pages) as admin: {failures.Count} header problems");
        Assert.True(routes.Count(r => r.IsPage) >= 10);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static IEnumerable<string> Problems(HttpResponseMessage response)
    {
        string? Header(string name) =>
            response.Headers.TryGetValues(name, out var v) ? string.Join(",", v)
            : response.Content.Headers.TryGetValues(name, out var c) ? string.Join(",", c) : null;

        var csp = Header("Content-Security-Policy");
        if (csp is null)
        {
            yield return "no Content-Security-Policy";
            yield break;
        }
        var directives = csp.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => d.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToDictionary(d => d[0].ToLowerInvariant(), d => d[1..]);
        var scripts = directives.GetValueOrDefault("script-src") ?? directives.GetValueOrDefault("default-src");
        if (scripts is null)
            yield return "CSP does not restrict scripts (no script-src or default-src)";
        else if (scripts.Any(s => s is "'unsafe-inline'" or "'unsafe-eval'" or "*" or "data:" or "http:" or "https:" or "blob:"))
            yield return $"script-src allows {string.Join(' ', scripts)}";
        var objects = directives.GetValueOrDefault("object-src") ?? directives.GetValueOrDefault("default-src");
        if (objects is null || !objects.SequenceEqual(["'none'"]))
            yield return "object-src is not 'none'";
        if (directives.GetValueOrDefault("base-uri") is not (["'self'"] or ["'none'"]) && !directives.ContainsKey("sandbox"))
            yield return "base-uri is not restricted";
        var framing = directives.GetValueOrDefault("frame-ancestors");
        if (framing is not (["'none'"] or ["'self'"]) && Header("X-Frame-Options")?.ToUpperInvariant() is not ("DENY" or "SAMEORIGIN"))
            yield return "page may be framed by another site";
        if (Header("X-Content-Type-Options") != "nosniff")
            yield return "no X-Content-Type-Options: nosniff";
        if (Header("Referrer-Policy") is not ("no-referrer" or "same-origin" or "strict-origin" or "strict-origin-when-cross-origin"))
            yield return $"Referrer-Policy is '{Header("Referrer-Policy")}'";
    }
}
