using Microsoft.AspNetCore.Http.Metadata;

namespace ConnectiveOne.Console;

/// <summary>
/// Body limits declared per route. Routing applies a route's limit to the server before any middleware or handler
/// reads the body (antiforgery and Blazor read forms early), so a route that anyone may call cannot be made to buffer
/// more than it declares. A test checks that every anonymous route declares one.
/// </summary>
internal static class RequestBodyLimits
{
    /// <summary>Forms a person fills in on a page (sign-in, first admin, password change): a few short fields.</summary>
    public const long PageForm = 64 * 1024;

    /// <summary><c>POST /api/v1/tokens</c>: an email, a password and a name as JSON.</summary>
    public const long TokenRequest = 16 * 1024;

    /// <summary>Routes that read no body at all (<c>/health</c>).</summary>
    public const long None = 0;

    public static TBuilder WithBodyLimit<TBuilder>(this TBuilder builder, long bytes) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(Metadata(bytes));

    public static IRequestSizeLimitMetadata Metadata(long bytes) => new BodyLimit(bytes);

    private sealed record BodyLimit(long? MaxRequestBodySize) : IRequestSizeLimitMetadata;
}
