using System.Security.Claims;
using ConnectiveOne.Core.Tickets;

namespace ConnectiveOne.Console.Api;

/// <summary>The caller's own draft on a ticket (API.md "Workflow"): nobody reads or changes another user's draft.</summary>
internal static class DraftsEndpoints
{
    public sealed record DraftRequest(string? Text, string[]? To, string[]? Cc, string[]? Bcc, bool? Note);

    /// <summary>The largest draft body: <see cref="TicketDrafts.MaxTextLength"/> characters, escaped as JSON, with room for recipients.</summary>
    public const long BodyLimit = 1024 * 1024;

    /// <summary>Marks a route's API origin (not a page): its writes carry no composer.</summary>
    private static readonly Guid ApiOrigin = Guid.Empty;

    public static void MapDrafts(this RouteGroupBuilder v1)
    {
        var api = v1.MapGroup("/tickets/{id}/draft").ForOperators().WithTags("Drafts");
        api.MapGet("", async (long id, TicketDrafts drafts, ClaimsPrincipal user, CancellationToken ct) =>
            await drafts.GetAsync(UserId(user), id, ct) is { } draft ? Results.Ok(draft) : NoDraft(id));
        api.MapPut("", PutAsync).WithBodyLimit(BodyLimit);
        api.MapDelete("", async (long id, TicketDrafts drafts, ClaimsPrincipal user, CancellationToken ct) =>
            await drafts.DeleteAsync(UserId(user), id, ct) ? Results.NoContent() : NoDraft(id));
    }

    private static async Task<IResult> PutAsync(long id, HttpRequest request, TicketDrafts drafts, ClaimsPrincipal user, CancellationToken ct)
    {
        DraftRequest? body;
        try
        {
            body = await request.ReadFromJsonAsync<DraftRequest>(ct);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
        {
            return Problems.BadRequest("The request could not be read: send JSON like {\"text\": \"Hello\", \"to\": [\"a@example.com\"]}.");
        }
        if (body?.Text is not { } text)
            return Problems.BadRequest("A draft needs a \"text\" (it may be empty).");
        var saved = await drafts.SaveAsync(UserId(user), id, new DraftContent(text, body.To, body.Cc, body.Bcc, body.Note ?? false), ApiOrigin, ct);
        return saved switch
        {
            { Draft: { } draft } => Results.Ok(draft),
            { TooLarge: true } => Problems.Result(StatusCodes.Status413PayloadTooLarge, saved.Error!),
            { TicketMissing: true } => Problems.NotFound(saved.Error!),
            _ => Problems.BadRequest(saved.Error!),
        };
    }

    private static IResult NoDraft(long id) => Problems.NotFound($"You have no draft on ticket #{id}.");

    private static string UserId(ClaimsPrincipal user) => user.FindFirstValue(ClaimTypes.NameIdentifier)!;
}
