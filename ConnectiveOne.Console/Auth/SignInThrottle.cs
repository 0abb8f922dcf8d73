using System.Threading.RateLimiting;
using ConnectiveOne.Console.Api;
using ConnectiveOne.Core;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Console.Auth;

/// <summary>
/// Limits password guessing per client address: Identity's lockout protects each account, this protects against one
/// address trying many accounts. Only sign-in attempts count (posting the sign-in form, <c>POST /api/v1/tokens</c>).
/// </summary>
internal static class SignInThrottle
{
    public const string TooMany = "Too many sign-in attempts from your network: wait a minute and try again.";

    public static IServiceCollection AddSignInThrottle(this IServiceCollection services)
    {
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                if (!IsSignInAttempt(context.Request))
                    return RateLimitPartition.GetNoLimiter("");
                var perMinute = context.RequestServices.GetRequiredService<IOptions<ConnectiveOneOptions>>().Value.SignInAttemptsPerMinute;
                var client = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
                return RateLimitPartition.GetFixedWindowLimiter(client, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = perMinute,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                });
            });
            limiter.OnRejected = async (rejected, _) =>
            {
                var http = rejected.HttpContext;
                http.Response.Headers.RetryAfter = "60";
                http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("ConnectiveOne.SignInThrottle")
                    .LogWarning("Sign-in attempts from {RemoteAddress} throttled", http.Connection.RemoteIpAddress?.ToString());
                // The API answers with problem details. The sign-in form gets the status code pages' /error/429 page,
                // re-executed as a GET: as a POST, Blazor would look for the sign-in form on the error page.
                if (ApiRoutes.IsApi(http.Request.Path))
                    await Problems.WriteAsync(http, StatusCodes.Status429TooManyRequests, TooMany);
                else
                    http.Request.Method = HttpMethods.Get;
            };
        });
        return services;
    }

    private static bool IsSignInAttempt(HttpRequest request) =>
        HttpMethods.IsPost(request.Method)
        && (request.Path.Equals("/account/login", StringComparison.OrdinalIgnoreCase)
            || request.Path.Equals("/api/v1/tokens", StringComparison.OrdinalIgnoreCase));
}
