using Microsoft.AspNetCore.Mvc;

namespace ConnectiveOne.Console.Api;

/// <summary>Endpoint metadata: the words of a 403 on this route (e.g. "Only admins can add addresses.").</summary>
internal sealed record ForbiddenTitle(string Title);

/// <summary>RFC 7807 problem details whose title says what is wrong in words.</summary>
internal static class Problems
{
    public static IResult Result(int status, string title, string? detail = null) =>
        TypedResults.Problem(title: title, detail: detail, statusCode: status);

    public static IResult BadRequest(string title) => Result(StatusCodes.Status400BadRequest, title);
    public static IResult NotFound(string title) => Result(StatusCodes.Status404NotFound, title);
    public static IResult Conflict(string title) => Result(StatusCodes.Status409Conflict, title);

    /// <summary>A problem with extra members (e.g. the id of the existing item a client can open).</summary>
    public static IResult With(int status, string title, string? detail, IDictionary<string, object?> extensions) =>
        TypedResults.Problem(title: title, detail: detail, statusCode: status, extensions: extensions);

    /// <summary>Writes problem details directly, for places outside endpoint results (authentication handlers).</summary>
    public static async Task WriteAsync(HttpContext context, int status, string title)
    {
        context.Response.StatusCode = status;
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title },
        });
    }
}
