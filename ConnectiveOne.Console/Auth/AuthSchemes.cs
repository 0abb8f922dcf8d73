using Microsoft.AspNetCore.Identity;

namespace ConnectiveOne.Console.Auth;

internal static class AuthSchemes
{
    public const string Smart = "Smart";
    public const string Bearer = "Bearer";

    /// <summary>Bearer tokens for API clients and hub clients; the Identity cookie for people in the browser.</summary>
    public static string Select(HttpContext context)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return Bearer;
        if (context.Request.Path.StartsWithSegments("/hubs") && context.Request.Query.ContainsKey("access_token"))
            return Bearer;
        // The API is bearer-only: a browser cookie must not be able to drive it (no CSRF surface).
        if (Api.ApiRoutes.IsApi(context.Request.Path))
            return Bearer;
        return IdentityConstants.ApplicationScheme;
    }
}

internal static class Policies
{
    public const string Admin = "Admin";
    public const string ApiUser = "ApiUser";
    public const string ApiAdmin = "ApiAdmin";
}
