using System.Security.Claims;
using ConnectiveOne.Core.Accounts;

namespace ConnectiveOne.Console.Api;

internal static class TokensEndpoints
{
    public sealed record CreateTokenRequest(string? Email, string? Password, string? Name);
    public sealed record CreatedToken(string Token, Guid Id, string Name);

    public static void MapTokens(this RouteGroupBuilder v1)
    {
        var tokens = v1.MapGroup("/tokens").WithTags("Tokens");

        // Checks credentials itself (API.md): anyone may try, the back-off applies as on the login page.
        tokens.MapPost("", CreateAsync).AllowAnonymous().WithBodyLimit(RequestBodyLimits.TokenRequest);

        var own = tokens.MapGroup("").ForOperators();
        own.MapGet("", async (ClaimsPrincipal user, ApiTokenService service, CancellationToken ct) =>
            TypedResults.Ok(await service.ListAsync(UserId(user), ct)));
        own.MapDelete("/{id:guid}", async (Guid id, ClaimsPrincipal user, ApiTokenService service, CancellationToken ct) =>
            await service.RevokeAsync(UserId(user), id, ct)
                ? Results.NoContent()
                : Problems.NotFound("You have no token with that id."));
    }

    private static async Task<IResult> CreateAsync(CreateTokenRequest request, HttpContext context, SignInGuard guard,
        ApiTokenService service, ILoggerFactory loggers, CancellationToken ct)
    {
        // One answer for every refusal (unknown, deactivated, waiting after wrong passwords, wrong): see SignInGuard.
        var user = await guard.CheckAsync(request.Email, request.Password, context.Connection.RemoteIpAddress?.ToString());
        if (user is null)
            return Problems.Result(StatusCodes.Status401Unauthorized, SignInGuard.Refused);

        var (token, info) = await service.CreateAsync(user.Id, request.Name ?? "API token", ct);
        loggers.CreateLogger("ConnectiveOne.Api.Tokens").LogInformation("User {UserId} created API token {TokenId}", user.Id, info.Id);
        return TypedResults.Created($"/api/v1/tokens/{info.Id}", new CreatedToken(token, info.Id, info.Name));
    }

    private static string UserId(ClaimsPrincipal user) =>
        user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("Authenticated user without an id.");
}
