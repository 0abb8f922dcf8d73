using Microsoft.AspNetCore.OutputCaching;

namespace ConnectiveOne.Console.Api;

/// <summary>
/// <c>/openapi/v1.json</c> for signed-in users (cookie or bearer token) only: it maps every route an attacker could try.
/// The document is the same for everyone and only changes with a new build, so it is generated once and then served
/// from memory: generating it walks every endpoint and costs far more than any other GET.
/// </summary>
internal static class OpenApiDocument
{
    public static IServiceCollection AddOpenApiDocument(this IServiceCollection services)
    {
        services.AddOpenApi();
        services.AddOutputCache();
        return services;
    }

    public static void MapOpenApiDocument(this WebApplication app) =>
        app.MapOpenApi().RequireAuthorization().CacheOutput(new SameForEveryUser());

    /// <summary>
    /// The output cache's default policy never caches for signed-in callers, the only ones this route serves. Nothing in
    /// this document depends on who asks; a response that sets a cookie (a renewed session) is never stored.
    /// </summary>
    private sealed class SameForEveryUser : IOutputCachePolicy
    {
        public ValueTask CacheRequestAsync(OutputCacheContext context, CancellationToken cancellation)
        {
            context.EnableOutputCaching = true;
            context.AllowCacheLookup = true;
            context.AllowCacheStorage = true;
            context.AllowLocking = true;
            context.ResponseExpirationTimeSpan = TimeSpan.FromDays(1);
            return ValueTask.CompletedTask;
        }

        public ValueTask ServeFromCacheAsync(OutputCacheContext context, CancellationToken cancellation) => ValueTask.CompletedTask;

        public ValueTask ServeResponseAsync(OutputCacheContext context, CancellationToken cancellation)
        {
            var response = context.HttpContext.Response;
            if (response.StatusCode != StatusCodes.Status200OK || response.Headers.SetCookie.Count > 0)
                context.AllowCacheStorage = false;
            return ValueTask.CompletedTask;
        }
    }
}
