using ConnectiveOne.Core;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Console;

/// <summary>
/// Refuses WebSocket upgrades (the Blazor circuit at <c>/_blazor</c>, the live hub) whose <c>Origin</c> is another site.
/// Browsers send a page's cookies with a WebSocket to any site and leave it to the server to check where the page came
/// from: without this, any web page could open a signed-in operator's circuit or hub. Allowed: the origin of
/// <c>ConnectiveOne:PublicUrl</c> and the request's own origin (same-origin). Non-browser clients send no Origin and
/// authenticate with a bearer token, which no other site has.
/// </summary>
internal static class WebSocketOrigin
{
    public static IApplicationBuilder UseWebSocketOriginCheck(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (IsWebSocketUpgrade(context) && context.Request.Headers.Origin.ToString() is { Length: > 0 } origin
            && !IsAllowed(context, origin))
        {
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("ConnectiveOne.WebSocketOrigin")
                .LogWarning("WebSocket upgrade to {Path} refused for origin {Origin}", context.Request.Path.Value, origin);
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }
        await next(context);
    });

    private static bool IsWebSocketUpgrade(HttpContext context) =>
        context.Request.Headers.Upgrade.ToString().Contains("websocket", StringComparison.OrdinalIgnoreCase)
        || context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true, Protocol: var protocol }
            && string.Equals(protocol, "websocket", StringComparison.OrdinalIgnoreCase);

    private static bool IsAllowed(HttpContext context, string origin)
    {
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var presented))
            return false;
        var own = new Uri($"{context.Request.Scheme}://{context.Request.Host}");
        if (SameOrigin(presented, own))
            return true;
        var publicUrl = context.RequestServices.GetRequiredService<IOptions<ConnectiveOneOptions>>().Value.PublicUrl;
        return Uri.TryCreate(publicUrl, UriKind.Absolute, out var configured) && SameOrigin(presented, configured);
    }

    private static bool SameOrigin(Uri a, Uri b) =>
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;
}
