using System.Net;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;
using ConnectiveOne.Console.Live;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Xunit.Abstractions;

namespace ConnectiveOne.Tests.Reliability;

/// <summary>
/// Every route of the endpoint table × credentials that look right but are not: a revoked token, a deactivated user's
/// token, a forged token, the admin's token with one character changed, a token in the query string, a signed-in
/// browser cookie on the bearer-only API. Complements <c>Integration/EndpointAuthorizationTests</c> (anonymous,
/// operator, admin) and covers the live hub the same way.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class AuthorizationMatrixTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly TestApp _app = new();
    private readonly Dictionary<string, string> _tokens = [];
    private string _operatorToken = "";

    public async Task InitializeAsync()
    {
        _app.StartKestrel();
        _operatorToken = await _app.CreateUserWithTokenAsync("olivia@example.test", "Operator", "olivia-password-1");

        // Revoked: created and then revoked by its owner.
        var revoked = await _app.CreateUserWithTokenAsync("rita@example.test", "Admin", "rita-password-1");
        var rita = _app.CreateApiClient(revoked);
        var list = await rita.GetFromJsonAsync<JsonElement>("/api/v1/tokens");
        foreach (var token in list.EnumerateArray())
            (await rita.DeleteAsync($"/api/v1/tokens/{token.GetProperty("id").GetGuid()}")).EnsureSuccessStatusCode();
        _tokens["revoked admin token"] = revoked;

        // Deactivated: the user's token was valid until an admin turned the account off.
        var deactivated = await _app.CreateUserWithTokenAsync("dave@example.test", "Admin", "dave-password-1");
        var admin = _app.CreateApiClient();
        var users = await admin.GetFromJsonAsync<JsonElement>("/api/v1/users");
        var dave = users.EnumerateArray().Single(u => u.GetProperty("email").GetString() == "dave@example.test").GetProperty("id").GetString();
        (await admin.PatchAsJsonAsync($"/api/v1/users/{dave}", new { isActive = false })).EnsureSuccessStatusCode();
        _tokens["deactivated admin's token"] = deactivated;

        _tokens["forged token"] = "c1_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
        _tokens["admin token, one character changed"] = TestApp.AdminToken[..^1] + (TestApp.AdminToken[^1] == 'f' ? 'e' : 'f');
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private IEnumerable<AppRoute> Protected() => EndpointTable.Routes(_app.Services).Where(r => !r.Anonymous);

    [Fact]
    public async Task Tokens_that_are_not_valid_get_nothing_anywhere()
    {
        var client = _app.CreateApiClient(token: null);
        var checks = 0;
        var failures = new List<string>();
        foreach (var (caller, token) in _tokens)
            foreach (var route in Protected())
            {
                // Pages and downloads accept a bearer token too (integrations); a bad one must be refused there as well.
                var request = new HttpRequestMessage(new HttpMethod(route.Method), route.Url);
                request.Headers.Authorization = new("Bearer", token);
                if (route.Method is "POST" or "PUT" or "PATCH")
                    request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
                var response = await client.SendAsync(request);
                checks++;
                if (!Refused(response))
                    failures.Add($"{caller}: {route.Method} {route.Url} -> {(int)response.StatusCode}");
            }
        output.WriteLine($"{checks} requests with {_tokens.Count} kinds of bad token over {Protected().Count()} protected routes: {failures.Count} let in");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task The_api_takes_no_cookie_and_no_token_in_the_query_string()
    {
        var browser = new HttpClient(new HttpClientHandler { CookieContainer = new(), AllowAutoRedirect = false })
        {
            BaseAddress = new Uri(_app.ServerAddress),
        };
        await CookieSignIn.SignInAsync(browser, TestApp.AdminEmail, TestApp.AdminPassword);
        var failures = new List<string>();
        var api = Protected().Where(r => r.Pattern.StartsWith("/api")).ToList();
        foreach (var route in api)
        {
            // A signed-in browser cannot be made to drive the API (no CSRF surface): the cookie alone is refused.
            var byCookie = await EndpointTable.SendAsync(browser, route, bearer: null);
            if (byCookie.StatusCode != HttpStatusCode.Unauthorized)
                failures.Add($"cookie: {route.Method} {route.Url} -> {(int)byCookie.StatusCode}");
            var url = route.Url + (route.Url.Contains('?') ? "&" : "?") + "access_token=" + TestApp.AdminToken;
            var byQuery = await EndpointTable.SendAsync(_app.CreateApiClient(token: null), route with { Url = url }, bearer: null);
            if (byQuery.StatusCode != HttpStatusCode.Unauthorized)
                failures.Add($"?access_token: {route.Method} {route.Url} -> {(int)byQuery.StatusCode}");
        }
        output.WriteLine($"{api.Count} API routes × (admin cookie, admin token in the query): {failures.Count} let in");
        Assert.True(api.Count > 20);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static bool Refused(HttpResponseMessage response) =>
        response.StatusCode == HttpStatusCode.Unauthorized
        || response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location?.ToString().Contains("/account/login") == true;

    private HubConnection Hub(string? token) =>
        new HubConnectionBuilder()
            .WithUrl($"{_app.ServerAddress}{LiveHub.Path}", o =>
            {
                if (token is not null)
                    o.AccessTokenProvider = () => Task.FromResult<string?>(token);
            })
            .Build();

    [Fact]
    public async Task The_live_hub_lets_in_operators_only_and_offers_no_methods()
    {
        await using (var anonymous = Hub(null))
            Assert.Equal(HttpStatusCode.Unauthorized, (await Assert.ThrowsAsync<HttpRequestException>(() => anonymous.StartAsync())).StatusCode);
        foreach (var (caller, token) in _tokens)
        {
            await using var bad = Hub(token);
            var error = await Assert.ThrowsAsync<HttpRequestException>(() => bad.StartAsync());
            Assert.True(error.StatusCode == HttpStatusCode.Unauthorized, $"{caller}: {error.StatusCode}");
        }

        await using var op = Hub(_operatorToken);
        await op.StartAsync();
        Assert.Equal(HubConnectionState.Connected, op.State);

        // Clients only listen. A method added later must be added here, with who may call it. Overrides of Hub's own
        // methods (OnConnectedAsync, …) are not callable: SignalR leaves out what Hub declares, and the invocations below check it.
        var methods = typeof(LiveHub).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(m => !m.IsSpecialName && m.GetBaseDefinition().DeclaringType != typeof(Hub)).Select(m => m.Name).ToList();
        Assert.True(methods.Count == 0, "LiveHub has callable methods; check their authorization here: " + string.Join(", ", methods));
        foreach (var name in (string[])["SendAsync", "Broadcast", "JoinGroup", "OnConnectedAsync", "OnDisconnectedAsync", "Dispose"])
            await Assert.ThrowsAsync<HubException>(() => op.InvokeAsync(name));
    }
}
