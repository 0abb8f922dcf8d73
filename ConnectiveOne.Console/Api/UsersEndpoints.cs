using System.Security.Claims;
using ConnectiveOne.Core.Accounts;

namespace ConnectiveOne.Console.Api;

internal static class UsersEndpoints
{
    public sealed record CreateUserRequest(string? Email, string? Password, string? Role, string? DisplayName);
    public sealed record UserDto(string Id, string Email, string? DisplayName, string Role, bool IsActive, DateTimeOffset CreatedAt,
        string? Signature);
    public sealed record UpdateUserRequest(string? Role, bool? IsActive);
    public sealed record UpdateMeRequest(string? DisplayName, string? Signature);

    public static void MapUsers(this RouteGroupBuilder v1)
    {
        // Anyone signed in, about themselves (the literal "me" wins over the admins' /users/{id}).
        var me = v1.MapGroup("/users/me").ForOperators().WithTags("Users");
        me.MapGet("", async (ClaimsPrincipal principal, UserDirectory directory) =>
            await directory.FindAsync(principal.FindFirstValue(ClaimTypes.NameIdentifier) ?? "") is { } user
                ? Results.Ok(ToDto(user)) : Problems.NotFound("This token's user no longer exists."));
        me.MapPatch("", async (UpdateMeRequest request, ClaimsPrincipal principal, UserDirectory directory) =>
            request is { DisplayName: null, Signature: null }
                ? Problems.BadRequest("Nothing to change: send 'displayName' or 'signature' (\"\" clears it).")
                : ToResult(await directory.UpdateProfileAsync(principal.FindFirstValue(ClaimTypes.NameIdentifier) ?? "",
                    request.DisplayName, request.Signature), created: false));

        var users = v1.MapGroup("/users").ForAdmins().WithTags("Users");
        users.MapGet("", async (UserDirectory directory, CancellationToken ct) =>
            TypedResults.Ok((await directory.ListAsync(ct)).Select(ToDto)));
        users.MapPost("", async (CreateUserRequest request, UserDirectory directory) =>
            ToResult(await directory.CreateAsync(request.Email, request.Password, request.Role, request.DisplayName), created: true));
        users.MapPatch("/{id}", async (string id, UpdateUserRequest request, UserDirectory directory) =>
        {
            AccountResult? result = null;
            if (request.Role is not null)
                result = await directory.SetRoleAsync(id, request.Role);
            if (request.IsActive is { } active && result?.Error is null)
                result = await directory.SetActiveAsync(id, active);
            if (result is null)
                return Problems.BadRequest("Nothing to change: send 'role' or 'isActive'.");
            return ToResult(result, created: false);
        });
    }

    private static IResult ToResult(AccountResult result, bool created) => result switch
    {
        { User: { } user } when created => TypedResults.Created($"/api/v1/users/{user.Id}", ToDto(user)),
        { User: { } user } => TypedResults.Ok(ToDto(user)),
        { Error: AccountError.Conflict } => Problems.Conflict(result.Message!),
        { Error: AccountError.NotFound } => Problems.NotFound(result.Message!),
        { Error: AccountError.LastAdmin } => Problems.Conflict(result.Message!),
        _ => Problems.BadRequest(result.Message ?? "The request is not valid."),
    };

    private static UserDto ToDto(UserInfo u) => new(u.Id, u.Email, u.DisplayName, u.Role, u.IsActive, u.CreatedAt, u.Signature);
}
