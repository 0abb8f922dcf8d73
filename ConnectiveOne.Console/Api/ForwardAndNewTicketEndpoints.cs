using System.Security.Claims;
using System.Text.Json;
using ConnectiveOne.Core;
using ConnectiveOne.Core.Outbound;
using ConnectiveOne.Core.Outbound.Forwarding;
using ConnectiveOne.Core.Outbound.NewTickets;
using ConnectiveOne.Core.Tickets;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Console.Api;

/// <summary>Forwarding ticket mail to a third party, and starting a ticket with an outbound mail (API.md "Conversation").</summary>
internal static class ForwardAndNewTicketEndpoints
{
    /// <summary><c>to</c> is one address as a string, or an array of them.</summary>
    public sealed record ForwardRequest(JsonElement? To, string? Text, IReadOnlyList<long>? MessageIds);

    public sealed record NewTicketBody(Guid? AddressId, JsonElement? To, JsonElement? Cc, string? Subject, string? Text);

    /// <summary>Maps the routes on the operators' group of <see cref="TicketsEndpoints"/>.</summary>
    public static void MapForwardAndNewTicket(this RouteGroupBuilder operators)
    {
        operators.MapPost("/tickets/{id}/forward", ForwardAsync);
        // Bearer-only API (as replies): the multipart variant needs no antiforgery token.
        operators.MapPost("/tickets", CreateAsync).DisableAntiforgery();
    }

    private static async Task<IResult> ForwardAsync(long id, HttpRequest request, ForwardService forwards, ClaimsPrincipal user, CancellationToken ct)
    {
        ForwardRequest? body;
        try
        {
            body = await request.ReadFromJsonAsync<ForwardRequest>(ct);
        }
        catch (JsonException)
        {
            return Problems.BadRequest("Send JSON like {\"to\": \"supplier@example.com\", \"text\": \"…\", \"messageIds\": [12]}.");
        }
        if (Addresses(body?.To, "to") is { Error: { } wrong })
            return Problems.BadRequest(wrong);
        var result = await forwards.QueueForwardAsync(id, Addresses(body?.To, "to").List, body?.Text, body?.MessageIds,
            user.FindFirstValue(ClaimTypes.NameIdentifier), ct);
        if (result.MessageId is { } messageId)
            return Results.Accepted($"/api/v1/tickets/{id}", new TicketsEndpoints.ReplyAccepted(messageId));
        return result.TicketMissing ? Problems.NotFound(result.Error!) : Problems.BadRequest(result.Error!);
    }

    /// <summary>
    /// JSON <c>{"addressId", "to", "cc"?, "subject", "text"}</c>, or multipart/form-data with the same fields (<c>to</c>/<c>cc</c>
    /// repeated once per address) and one <c>files</c> part per attachment.
    /// </summary>
    private static async Task<IResult> CreateAsync(HttpRequest request, NewTicketService tickets, TicketQueries queries, ClaimsPrincipal user,
        IOptions<ConnectiveOneOptions> options, CancellationToken ct)
    {
        NewTicketRequest ask;
        if (request.HasFormContentType)
        {
            var limit = options.Value.Smtp.MaxMessageBytes;
            var tooLarge = $"A new email can carry up to {limit / 1024 / 1024} MB of attachments.";
            if (request.ContentLength > limit + 64 * 1024)
                return Problems.Result(StatusCodes.Status413PayloadTooLarge, tooLarge);
            var form = await request.ReadFormAsync(ct);
            if (form.Files.Sum(f => f.Length) > limit)
                return Problems.Result(StatusCodes.Status413PayloadTooLarge, tooLarge);
            if (!Guid.TryParse(form["addressId"].ToString(), out var addressId))
                return Problems.BadRequest("'addressId' must be the id of one of this helpdesk's addresses.");
            var files = new List<ReplyAttachment>();
            foreach (var file in form.Files.Where(f => f.Name == "files"))
            {
                using var buffer = new MemoryStream((int)file.Length);
                await file.CopyToAsync(buffer, ct);
                files.Add(new ReplyAttachment(Path.GetFileName(file.FileName), string.IsNullOrEmpty(file.ContentType)
                    ? "application/octet-stream" : file.ContentType, buffer.ToArray()));
            }
            ask = new NewTicketRequest(addressId, form["to"].Select(v => v ?? "").ToList(), form["cc"].Select(v => v ?? "").ToList(),
                form["subject"].ToString(), form["text"].ToString(), files);
        }
        else
        {
            NewTicketBody? body;
            try
            {
                body = await request.ReadFromJsonAsync<NewTicketBody>(ct);
            }
            catch (JsonException)
            {
                return Problems.BadRequest("Send JSON like {\"addressId\": \"…\", \"to\": \"ann@example.com\", \"subject\": \"…\", \"text\": \"…\"} or a multipart form.");
            }
            var to = Addresses(body?.To, "to");
            var cc = Addresses(body?.Cc, "cc");
            if ((to.Error ?? cc.Error) is { } wrong)
                return Problems.BadRequest(wrong);
            ask = new NewTicketRequest(body?.AddressId ?? Guid.Empty, to.List, cc.List, body?.Subject, body?.Text, []);
        }
        var result = await tickets.CreateAsync(ask, user.FindFirstValue(ClaimTypes.NameIdentifier), ct);
        if (result.TicketId is not { } ticketId)
            return Problems.BadRequest(result.Error!);
        return Results.Created($"/api/v1/tickets/{ticketId}", await queries.GetAsync(ticketId, ct));
    }

    // An address field of the JSON body: absent, one string, or an array of strings.
    private static (IReadOnlyList<string>? List, string? Error) Addresses(JsonElement? field, string name) => field switch
    {
        null or { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined } => (null, null),
        { ValueKind: JsonValueKind.String } one => ([one.GetString() ?? ""], null),
        { ValueKind: JsonValueKind.Array } many when many.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String) =>
            (many.EnumerateArray().Select(e => e.GetString() ?? "").ToList(), null),
        _ => (null, $"'{name}' takes an address as a string, or an array of them."),
    };
}
