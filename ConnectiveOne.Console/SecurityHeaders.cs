namespace ConnectiveOne.Console;

internal static class SecurityHeaders
{
    // No inline script anywhere: Blazor, MudBlazor and our own script are files from this origin. MudBlazor sets
    // inline styles, which cannot execute. Images may come from anywhere only because an operator can ask to see a
    // mail's remote images: intake rewrites every remote image of a mail, so none loads before that request.
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: https: http:; " +
        "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()";
        return next();
    });
}
