using ConnectiveOne.Core.Accounts;
using Microsoft.AspNetCore.Identity;

namespace ConnectiveOne.Console.Features.Account;

internal static class AccountEndpoints
{
    /// <summary>Sign-out is a POST with the antiforgery token, so another site cannot sign people out.</summary>
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/account/logout", async (SignInManager<AppUser> signIn) =>
        {
            await signIn.SignOutAsync();
            return Results.LocalRedirect("/account/login");
        }).RequireAuthorization();
        return app;
    }
}
