using System.Security.Claims;
using ConnectiveOne.Core.Accounts;
using ConnectiveOne.Core.SavedReplies;

namespace ConnectiveOne.Console.Api;

/// <summary>
/// Saved replies (API.md "Workflow"): everyone lists the shared ones and their own, and manages their own; shared ones are
/// created, changed and deleted by admins only (403), and another user's personal one does not exist for the caller (404).
/// </summary>
internal static class SavedRepliesEndpoints
{
    public sealed record SavedReplyRequest(string? Title, string? Text, Guid? BotId, bool? Shared);

    private const string Unreadable = "The request could not be read: send JSON like {\"title\": \"Refund\", \"text\": \"Hello {customer.firstName}, …\", \"shared\": false}.";

    public static void MapSavedReplies(this RouteGroupBuilder v1)
    {
        var api = v1.MapGroup("/saved-replies").ForOperators().WithTags("Saved replies");
        api.MapGet("", async (string? q, ClaimsPrincipal user, SavedReplyService replies, CancellationToken ct) =>
            Results.Ok(await replies.ListAsync(Actor(user).UserId, q, ct)));
        api.MapPost("", async (HttpRequest request, ClaimsPrincipal user, SavedReplyService replies, CancellationToken ct) =>
            await ReadAsync(request, ct) is not { } input ? Problems.BadRequest(Unreadable) : Answer(await replies.CreateAsync(input, Actor(user), ct)));
        api.MapPut("/{id}", async (long id, HttpRequest request, ClaimsPrincipal user, SavedReplyService replies, CancellationToken ct) =>
            await ReadAsync(request, ct) is not { } input ? Problems.BadRequest(Unreadable) : Answer(await replies.UpdateAsync(id, input, Actor(user), ct)));
        api.MapDelete("/{id}", async (long id, ClaimsPrincipal user, SavedReplyService replies, CancellationToken ct) =>
            Answer(await replies.DeleteAsync(id, Actor(user), ct)));
    }

    // Read by hand: a bound parameter would answer malformed JSON with an empty 400 instead of words.
    private static async Task<SavedReplyInput?> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        try
        {
            var body = await request.ReadFromJsonAsync<SavedReplyRequest>(ct);
            return body is null ? null : new SavedReplyInput(body.Title, body.Text, body.BotId, body.Shared ?? false);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    private static IResult Answer(SavedReplyResult result) => result switch
    {
        { Error: { } error } => Problems.Result(result.Status, error),
        { Status: StatusCodes.Status201Created, Reply: { } reply } => Results.Created($"/api/v1/saved-replies/{reply.Id}", reply),
        { Reply: { } reply } => Results.Ok(reply),
        _ => Results.NoContent(),
    };

    private static SavedReplyActor Actor(ClaimsPrincipal user) =>
        new(user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("Authenticated user without an id."),
            user.IsInRole(Roles.Admin));
}
