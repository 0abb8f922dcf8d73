using System.Net;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.AspNetCore.Mvc.Testing;

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

    private IReadOnlyList<AppRoute> Routes()
    {
        var routes = EndpointTable.Routes(_app.Services);
        foreach (var route in routes)
            Assert.True(route.Decided,
                $"{route.Pattern} ({route.DisplayName}) has no authorization decision: add [Authorize], a policy, or [AllowAnonymous].");
        return routes;
    }

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

    // API bodies are JSON; page posts are forms, which must carry an antiforgery token (none is sent here).
    private static Task<HttpResponseMessage> SendAsync(HttpClient client, AppRoute route, string? token) =>
        EndpointTable.SendAsync(client, route, token);
}
