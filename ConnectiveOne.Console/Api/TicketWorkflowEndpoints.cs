using System.Security.Claims;
using ConnectiveOne.Core.Tickets;

namespace ConnectiveOne.Console.Api;

/// <summary>Merge and split (API.md "Workflow"), and undoing either for <see cref="TicketWorkflow.UndoWindow"/> (operators).</summary>
internal static class TicketWorkflowEndpoints
{
    public sealed record MergeRequest(long? IntoTicketId);

    public static void MapTicketWorkflow(this RouteGroupBuilder v1)
    {
        var api = v1.MapGroup("").ForOperators().WithTags("Tickets");
        api.MapPost("/tickets/{id}/merge", MergeAsync);
        api.MapPost("/messages/{id}/split", async (long id, TicketWorkflow workflow, TicketQueries tickets, ClaimsPrincipal user, CancellationToken ct) =>
            await AnswerAsync(await workflow.SplitAsync(id, UserId(user), ct), tickets, created: true, ct));
        // The id is that of the merge's or split's event (a ticket's events[].id, kind "Merged" or "SplitOff").
        api.MapPost("/ticket-events/{id}/undo", async (long id, TicketWorkflow workflow, TicketQueries tickets, ClaimsPrincipal user, CancellationToken ct) =>
            await AnswerAsync(await workflow.UndoAsync(id, UserId(user), ct), tickets, created: false, ct));
    }

    private static async Task<IResult> MergeAsync(long id, HttpRequest request, TicketWorkflow workflow, TicketQueries tickets, ClaimsPrincipal user,
        CancellationToken ct)
    {
        MergeRequest? body;
        try
        {
            body = await request.ReadFromJsonAsync<MergeRequest>(ct);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
        {
            return Problems.BadRequest("The request could not be read: send JSON like {\"intoTicketId\": 123}.");
        }
        return await AnswerAsync(await workflow.MergeAsync(id, body?.IntoTicketId, UserId(user), ct), tickets, created: false, ct);
    }

    private static string? UserId(ClaimsPrincipal user) => user.FindFirstValue(ClaimTypes.NameIdentifier);

    private static async Task<IResult> AnswerAsync(WorkflowResult result, TicketQueries tickets, bool created, CancellationToken ct)
    {
        if (result.TicketId is not { } ticketId)
            return Problems.Result(result.Status, result.Error!);
        var ticket = await tickets.GetAsync(ticketId, ct);
        return created ? Results.Created($"/api/v1/tickets/{ticketId}", ticket) : Results.Ok(ticket);
    }
}
