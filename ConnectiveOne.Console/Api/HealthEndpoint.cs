using ConnectiveOne.Core.Persistence;

namespace ConnectiveOne.Console.Api;

internal static class HealthEndpoint
{
    public sealed record Health(string Status, bool Database);

    /// <summary>200 when the app runs and its database answers; 503 otherwise.</summary>
    public static async Task<IResult> GetAsync(AppDbContext db, CancellationToken ct)
    {
        var database = await db.Database.CanConnectAsync(ct);
        return database
            ? TypedResults.Ok(new Health("ok", true))
            : TypedResults.Json(new Health("degraded", false), statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
