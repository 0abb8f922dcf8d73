using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Tests.TestSupport;

/// <summary>One route of the app as a caller sees it, with the authorization decision its metadata carries.</summary>
/// <param name="Url">The pattern with each parameter filled in (a missing id: 404 for ints, a fresh GUID otherwise).</param>
/// <param name="IsApi">Answers like the API (401/403, bearer tokens): <c>/api</c> and the live hub.</param>
/// <param name="IsPage">A Razor component page.</param>
/// <param name="Decided">Carries [Authorize], a policy or [AllowAnonymous].</param>
public sealed record AppRoute(string Method, string Pattern, string Url, bool IsApi, bool IsPage, bool Anonymous, bool AdminOnly,
    bool Decided, string DisplayName);

/// <summary>
/// The app's routes read from its endpoint table, so tests over "every route" cover a new route as soon as it exists.
/// Blazor's circuit hub and static files are left out: the hub is guarded by the fallback policy (sign-in required)
/// and each page inside it by its own [Authorize]; static files carry no data.
/// </summary>
public static class EndpointTable
{
    public static IReadOnlyList<AppRoute> Routes(IServiceProvider services) => RoutesWithEndpoints(services).Select(r => r.Route).ToList();

    /// <summary>The same routes with the endpoint each comes from, for checks on other metadata (e.g. body limits).</summary>
    public static IReadOnlyList<(AppRoute Route, Endpoint Endpoint)> RoutesWithEndpoints(IServiceProvider services)
    {
        var sources = services.GetRequiredService<IEnumerable<EndpointDataSource>>();
        var routes = new List<(AppRoute, Endpoint)>();
        foreach (var endpoint in sources.SelectMany(s => s.Endpoints).OfType<RouteEndpoint>())
        {
            var pattern = "/" + (endpoint.RoutePattern.RawText ?? "").Trim('/');
            if (IsFramework(endpoint, pattern))
                continue;
            var anonymous = endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null;
            var authorize = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>();
            var adminOnly = authorize.Any(a => a.Roles?.Contains("Admin") == true || a.Policy is "Admin" or "ApiAdmin");
            var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            var isPage = endpoint.Metadata.GetMetadata<ComponentTypeMetadata>() is not null;
            foreach (var method in isPage ? ["GET"] : methods)
                routes.Add((new AppRoute(method, pattern, Concrete(pattern), IsApiLike(pattern), isPage, anonymous, adminOnly,
                    anonymous || authorize.Count > 0, endpoint.DisplayName ?? pattern), endpoint));
        }
        return routes;
    }

    private static bool IsFramework(RouteEndpoint endpoint, string pattern) =>
        pattern.StartsWith("/_blazor") || pattern.StartsWith("/_framework") || pattern.StartsWith("/_content")
        || pattern.Contains(":file}")
        || endpoint.Metadata.Any(m => m.GetType().Name == "StaticAssetDescriptor");

    // The live hub and the OpenAPI document answer like the API (401, bearer tokens for integrations), not like a page.
    private static bool IsApiLike(string pattern) => pattern.StartsWith("/api") || pattern.StartsWith("/hubs") || pattern.StartsWith("/openapi");

    private static string Concrete(string pattern) =>
        System.Text.RegularExpressions.Regex.Replace(pattern, "\\{([^}:]+)(:[^}]+)?\\}", m =>
            m.Groups[2].Value.Contains("int") ? "404" : Guid.NewGuid().ToString());

    /// <summary>Sends the route's method with an empty body of the right kind (JSON for the API, a form without antiforgery token for pages).</summary>
    public static Task<HttpResponseMessage> SendAsync(HttpClient client, AppRoute route, string? bearer)
    {
        var request = new HttpRequestMessage(new HttpMethod(route.Method), route.Url);
        if (route.IsApi && bearer is not null)
            request.Headers.Authorization = new("Bearer", bearer);
        if (route.Method is "POST" or "PUT" or "PATCH")
            request.Content = route.IsApi
                ? new StringContent("{}", System.Text.Encoding.UTF8, "application/json")
                : new FormUrlEncodedContent(new Dictionary<string, string> { ["probe"] = "1" });
        return client.SendAsync(request);
    }
}
