using System.Net;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Tests.Integration;

/// <summary>
/// Every registered route gets an authorization decision, and the decision holds for anonymous, operator
/// and admin callers. Routes are read from the app's endpoint table, so a new route is covered as soon as it exists.
/// </summary>
public sealed class EndpointAuthorizationTests : IAsyncLifetime
{
    private const string OperatorEmail = "operator@example.test";
    private const string OperatorPassword = "operator-password-1";
    private readonly TestApp _app = new();
    private string _operatorToken = "";

    public async Task InitializeAsync() => _operatorToken = await _app.CreateUserWithTokenAsync(OperatorEmail, "Operator", OperatorPassword);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private sealed record Route(string Method, string Pattern, string Url, bool IsApi, bool Anonymous, bool AdminOnly);

    private IReadOnlyList<Route> Routes()
    {
        var sources = _app.Services.GetRequiredService<IEnumerable<EndpointDataSource>>();
        var routes = new List<Route>();
        foreach (var endpoint in sources.SelectMany(s => s.Endpoints).OfType<RouteEndpoint>())
        {
            var pattern = "/" + (endpoint.RoutePattern.RawText ?? "").Trim('/');
            if (IsFramework(endpoint, pattern))
                continue;
            var anonymous = endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null;
            var authorize = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>();
            Assert.True(anonymous || authorize.Count > 0,
                $"{pattern} ({endpoint.DisplayName}) has no authorization decision: add [Authorize], a policy, or [AllowAnonymous].");
            var adminOnly = authorize.Any(a => a.Roles?.Contains("Admin") == true || a.Policy is "Admin" or "ApiAdmin");
            var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            var isPage = endpoint.Metadata.GetMetadata<ComponentTypeMetadata>() is not null;
            foreach (var method in isPage ? ["GET"] : methods)
                routes.Add(new Route(method, pattern, Concrete(pattern), IsApiLike(pattern), anonymous, adminOnly));
        }
        return routes;
    }

    // Blazor's circuit hub and static files: the hub is guarded by the fallback policy (sign-in required) and
    // each page inside it by its own [Authorize]; static files carry no data.
    private static bool IsFramework(RouteEndpoint endpoint, string pattern) =>
        pattern.StartsWith("/_blazor") || pattern.StartsWith("/_framework") || pattern.StartsWith("/_content")
        || pattern.Contains(":file}")
        || endpoint.Metadata.Any(m => m.GetType().Name == "StaticAssetDescriptor");

    // The live hub answers like the API (401, bearer tokens for integrations), not like a page.
    private static bool IsApiLike(string pattern) => pattern.StartsWith("/api") || pattern.StartsWith("/hubs");

    private static string Concrete(string pattern) =>
        System.Text.RegularExpressions.Regex.Replace(pattern, "\\{([^}:]+)(:[^}]+)?\\}", m =>
            m.Groups[2].Value.Contains("int") ? "404" : Guid.NewGuid().ToString());

    [Fact]
    public void Every_route_has_an_authorization_decision()
    {
        var routes = Routes();
        Assert.Contains(routes, r => r.Pattern == "/api/v1/users");
        Assert.Contains(routes, r => r.Pattern == "/settings");
    }

    [Fact]
    public async Task Anonymous_callers_are_refused_everywhere_but_public_routes()
    {
        var client = _app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        foreach (var route in Routes().Where(r => !r.Anonymous))
        {
            var response = await SendAsync(client, route, token: null);
            if (route.IsApi)
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{route.Method} {route.Url}: {(int)response.StatusCode}, expected 401");
            else
                Assert.True(response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location!.ToString().Contains("/account/login"),
                    $"{route.Method} {route.Url}: {(int)response.StatusCode}, expected a redirect to sign-in");
        }
    }

    [Fact]
    public async Task Operators_are_refused_on_admin_routes_and_allowed_elsewhere()
    {
        var client = _app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        await CookieSignIn.SignInAsync(client, OperatorEmail, OperatorPassword);
        foreach (var route in Routes().Where(r => !r.Anonymous))
        {
            var response = await SendAsync(client, route, _operatorToken);
            var status = (int)response.StatusCode;
            if (route.AdminOnly)
                Assert.True(status == 403, $"{route.Method} {route.Url}: {status}, expected 403 for an operator");
            else
                Assert.True(status is not (401 or 403) && !IsLoginRedirect(response), $"{route.Method} {route.Url}: {status} for an operator");
        }
    }

    [Fact]
    public async Task Admins_are_allowed_everywhere()
    {
        var client = _app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        await CookieSignIn.SignInAsync(client, TestApp.AdminEmail, TestApp.AdminPassword);
        foreach (var route in Routes().Where(r => !r.Anonymous))
        {
            var response = await SendAsync(client, route, TestApp.AdminToken);
            var status = (int)response.StatusCode;
            Assert.True(status is not (401 or 403) && !IsLoginRedirect(response), $"{route.Method} {route.Url}: {status} for an admin");
        }
    }

    [Fact]
    public async Task An_operator_sees_the_not_allowed_page_at_settings()
    {
        var client = _app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        await CookieSignIn.SignInAsync(client, OperatorEmail, OperatorPassword);
        var response = await client.GetAsync("/settings");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("Not allowed", await response.Content.ReadAsStringAsync());
    }

    private static bool IsLoginRedirect(HttpResponseMessage response) =>
        response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location?.ToString().Contains("/account/login") == true;

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, Route route, string? token)
    {
        var request = new HttpRequestMessage(new HttpMethod(route.Method), route.Url);
        if (route.IsApi && token is not null)
            request.Headers.Authorization = new("Bearer", token);
        // API bodies are JSON; page posts are forms, which must carry an antiforgery token (none is sent here).
        if (route.Method is "POST" or "PUT" or "PATCH")
            request.Content = route.IsApi
                ? new StringContent("{}", System.Text.Encoding.UTF8, "application/json")
                : new FormUrlEncodedContent(new Dictionary<string, string> { ["probe"] = "1" });
        return client.SendAsync(request);
    }
}
