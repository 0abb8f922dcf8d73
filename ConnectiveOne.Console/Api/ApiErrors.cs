using Microsoft.AspNetCore.Diagnostics;

namespace ConnectiveOne.Console.Api;

/// <summary>
/// An error no endpoint handled, answered to an API caller as problem details instead of the console's error page.
/// The exception itself is logged by the exception handler middleware; the caller gets words, never a stack trace.
/// </summary>
internal static class ApiErrors
{
    public const string Unexpected = "Something went wrong on the server; the error is logged. Try again, and tell your admin if it keeps happening.";

    public const string TooLarge = "The request body is larger than this route accepts.";

    /// <summary>
    /// Words for statuses the framework answers by itself with only a reason phrase as title (a body over a route's
    /// limit is answered 413 by endpoint binding before our code runs).
    /// </summary>
    public static void Describe(ProblemDetailsContext context)
    {
        if (context.ProblemDetails.Status == StatusCodes.Status413PayloadTooLarge
            && context.ProblemDetails.Title is null or "Request Entity Too Large" or "Payload Too Large" or "Content Too Large")
            context.ProblemDetails.Title = TooLarge;
    }

    public static IApplicationBuilder UseApiProblemDetailsForErrors(this IApplicationBuilder app) =>
        app.UseWhen(c => ApiRoutes.IsApi(c.Request.Path), api => api.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandler = context =>
            {
                var (status, title) = context.Features.Get<IExceptionHandlerFeature>()?.Error switch
                {
                    BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
                        (StatusCodes.Status413PayloadTooLarge, TooLarge),
                    BadHttpRequestException bad => (bad.StatusCode, "The request could not be read: " + bad.Message),
                    // The form reader's words for a body it cannot parse (no multipart boundary, too many parts,
                    // a section without headers): the caller's mistake, not the server's.
                    InvalidDataException bad => (StatusCodes.Status400BadRequest, "The request could not be read: " + bad.Message),
                    _ => (StatusCodes.Status500InternalServerError, Unexpected),
                };
                return Problems.WriteAsync(context, status, title);
            },
        }));
}
