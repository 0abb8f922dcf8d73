using ConnectiveOne.Core.Accounts;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Identity;

namespace ConnectiveOne.Console.Features.Account;

internal static class AccountEndpoints
{
    /// <summary>Sign-out is a form POST with the antiforgery token, so another site cannot sign people out.</summary>
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/account/logout", async (HttpContext context, IAntiforgery antiforgery, SignInManager<AppUser> signIn) =>
        {
            if (!await antiforgery.IsRequestValidAsync(context))
                return Results.Problem(title: "The sign-out form has expired: reload the page and try again.",
                    statusCode: StatusCodes.Status400BadRequest);
            await signIn.SignOutAsync();
            return Results.LocalRedirect("/account/login");
        }).RequireAuthorization().DisableAntiforgery();
        return app;
    }
}
