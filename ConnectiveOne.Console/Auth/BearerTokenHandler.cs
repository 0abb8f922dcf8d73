using System.Security.Claims;
using System.Text.Encodings.Web;
using ConnectiveOne.Console.Api;
using ConnectiveOne.Core.Accounts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Console.Auth;

/// <summary>
/// Authenticates <c>Authorization: Bearer &lt;token&gt;</c> (or <c>access_token</c> on the hub) against the hashed
/// tokens. Roles come from the database on every request, so a demotion applies to tokens at once.
/// </summary>
internal sealed class BearerTokenHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger,
    UrlEncoder encoder, ApiTokenService tokens, IUserClaimsPrincipalFactory<AppUser> principals)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string TokenIdClaim = "connectiveone:token_id";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var secret = ReadToken();
        if (secret is null)
            return AuthenticateResult.NoResult();
        var owner = await tokens.ValidateAsync(secret, Context.RequestAborted);
        if (owner is null)
            return AuthenticateResult.Fail("The API token is not valid or has been revoked.");
        var principal = await principals.CreateAsync(owner.User);
        ((ClaimsIdentity)principal.Identity!).AddClaim(new Claim(TokenIdClaim, owner.TokenId.ToString()));
        var identity = new ClaimsIdentity(principal.Claims, Scheme.Name, ClaimTypes.Name, ClaimTypes.Role);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        return Problems.WriteAsync(Context, StatusCodes.Status401Unauthorized,
            "Sign-in required: send an API token as 'Authorization: Bearer <token>'.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Problems.WriteAsync(Context, StatusCodes.Status403Forbidden,
            Context.GetEndpoint()?.Metadata.GetMetadata<ForbiddenTitle>()?.Title ?? "Not allowed: this needs an admin's token.");

    private string? ReadToken()
    {
        var header = Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return header["Bearer ".Length..].Trim();
        if (Request.Path.StartsWithSegments("/hubs") && Request.Query.TryGetValue("access_token", out var query))
            return query.ToString();
        return null;
    }
}
