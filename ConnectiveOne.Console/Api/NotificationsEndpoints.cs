using System.Security.Claims;
using ConnectiveOne.Core.Notifications;

namespace ConnectiveOne.Console.Api;

/// <summary>The caller's own notifications (API.md, Workflow): list them, mark some or all read.</summary>
internal static class NotificationsEndpoints
{
    public sealed record ReadRequest(IReadOnlyList<long>? Ids);
    public sealed record ReadResult(int Updated);

    public static void MapNotifications(this RouteGroupBuilder v1)
    {
        var own = v1.MapGroup("/notifications").ForOperators().WithTags("Notifications");
        own.MapGet("", ListAsync);
        own.MapPost("/read", ReadAsync);
    }

    // "unread" as text: a bool parameter would refuse "yes" with an empty 400 instead of saying what it takes.
    private static async Task<IResult> ListAsync(string? unread, ClaimsPrincipal user, NotificationCenter center, CancellationToken ct)
    {
        bool? filter = unread switch
        {
            null or "" => null,
            _ when bool.TryParse(unread, out var b) => b,
            _ => (bool?)null,
        };
        if (unread is { Length: > 0 } && filter is null)
            return Problems.BadRequest("'unread' must be true or false (or left out for all notifications).");
        var page = await center.ListAsync(UserId(user), filter, take: 100, ct);
        return Results.Ok(page.Items);
    }

    // No body, or one without "ids": all of the caller's notifications are marked read.
    private static async Task<IResult> ReadAsync(HttpRequest request, ClaimsPrincipal user, NotificationCenter center, CancellationToken ct)
    {
        ReadRequest? body = null;
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            try
            {
                body = await request.ReadFromJsonAsync<ReadRequest>(ct);
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
            {
                return Problems.BadRequest("The body must be JSON like {\"ids\": [1, 2]}, or left out to mark all read.");
            }
        }
        var updated = await center.MarkReadAsync(UserId(user), body?.Ids, ct);
        return Results.Ok(new ReadResult(updated));
    }

    private static string UserId(ClaimsPrincipal user) =>
        user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("Authenticated user without an id.");
}
