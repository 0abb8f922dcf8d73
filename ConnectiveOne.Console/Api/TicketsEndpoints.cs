using System.Security.Claims;
using ConnectiveOne.Core;
using ConnectiveOne.Core.Outbound;
using ConnectiveOne.Core.Tickets;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Console.Api;

/// <summary>Reading tickets and downloading what they carry (operators).</summary>
internal static class TicketsEndpoints
{
    public sealed record TicketList(IReadOnlyList<TicketSummary> Items, int Total);

    public static void MapTickets(this RouteGroupBuilder v1)
    {
        var api = v1.MapGroup("").ForOperators().WithTags("Tickets");
        api.MapGet("/tickets", ListAsync);
        // Ids are unconstrained in the route so a malformed one is refused after authorization (400), not as 404.
        api.MapGet("/tickets/{id}", GetAsync);
        api.MapPatch("/tickets/{id}", UpdateAsync);
        // Bearer-only API: no cookie can reach it, so the form variant needs no antiforgery token.
        api.MapPost("/tickets/{id}/replies", ReplyAsync).DisableAntiforgery();
        api.MapForwardAndNewTicket();
        api.MapGet("/attachments/{id}", async (long id, TicketQueries tickets, CancellationToken ct) =>
            Download(await tickets.GetAttachmentAsync(id, ct), "There is no attachment with that id."));
        api.MapGet("/messages/{id}/raw", async (long id, TicketQueries tickets, CancellationToken ct) =>
            Download(await tickets.GetRawAsync(id, ct), "There is no message with that id."));
    }

    /// <summary>
    /// The same downloads for signed-in browser users (cookie): inline images in a message's HTML (rewritten from
    /// <c>cid:</c> to this URL) load in the console, and <c>?download=1</c> always saves the file instead.
    /// </summary>
    public static void MapFiles(this IEndpointRouteBuilder app)
    {
        var files = app.MapGroup("/files").RequireAuthorization().ExcludeFromDescription();
        // The console links with ?download=1, which a bool parameter would refuse with 400: read it as text.
        files.MapGet("/attachments/{id}", async (long id, string? download, TicketQueries tickets, CancellationToken ct) =>
            Download(await tickets.GetAttachmentAsync(id, ct), "There is no attachment with that id.",
                inline: download is null or "0" or "false"));
        files.MapGet("/messages/{id}/raw", async (long id, TicketQueries tickets, CancellationToken ct) =>
            Download(await tickets.GetRawAsync(id, ct), "There is no message with that id."));
    }

    /// <summary>
    /// <c>snoozedUntil</c>: an ISO 8601 time with its offset snoozes the ticket until then, <c>null</c> ends the snooze;
    /// left out, the snooze stays as it is (a JsonElement tells the two apart: Undefined when absent). A property, not a
    /// constructor parameter with a default: the OpenAPI document cannot write a JsonElement default (it answered 500).
    /// </summary>
    public sealed record TicketUpdate(string? Status, string? AssigneeId)
    {
        public System.Text.Json.JsonElement SnoozedUntil { get; init; }
    }
    public sealed record ReplyRequest(string? Text, IReadOnlyList<string>? To = null, IReadOnlyList<string>? Cc = null, IReadOnlyList<string>? Bcc = null,
        bool? Quote = null);
    public sealed record ReplyAccepted(long MessageId);

    /// <summary>
    /// JSON <c>{"text", "to"?, "cc"?, "bcc"?, "quote"?}</c>, or multipart/form-data with a <c>text</c> field, <c>to</c>/<c>cc</c>/<c>bcc</c>
    /// repeated once per address, <c>quote</c>, and one <c>files</c> part per attachment. A field left out takes the default
    /// (reply-all; quoting as the address says).
    /// </summary>
    private static async Task<IResult> ReplyAsync(long id, HttpRequest request, ReplyService replies, TicketDrafts drafts, ClaimsPrincipal user,
        IOptions<ConnectiveOneOptions> options, CancellationToken ct)
    {
        var limit = options.Value.Smtp.MaxMessageBytes;
        string? text;
        ReplyRecipients recipients;
        bool? quote = null;
        var files = new List<ReplyAttachment>();
        if (request.HasFormContentType)
        {
            if (request.ContentLength > limit + 64 * 1024)
                return Problems.Result(StatusCodes.Status413PayloadTooLarge, $"A reply can carry up to {limit / 1024 / 1024} MB of attachments.");
            var form = await request.ReadFormAsync(ct);
            text = form["text"].ToString();
            IReadOnlyList<string>? Field(string name) => form.ContainsKey(name) ? form[name].Select(v => v ?? "").ToList() : null;
            recipients = new ReplyRecipients(Field("to"), Field("cc"), Field("bcc"));
            if (form.ContainsKey("quote"))
            {
                if (!bool.TryParse(form["quote"].ToString(), out var parsed))
                    return Problems.BadRequest("'quote' is true or false.");
                quote = parsed;
            }
            if (form.Files.Sum(f => f.Length) > limit)
                return Problems.Result(StatusCodes.Status413PayloadTooLarge, $"A reply can carry up to {limit / 1024 / 1024} MB of attachments.");
            foreach (var file in form.Files.Where(f => f.Name == "files"))
            {
                using var buffer = new MemoryStream((int)file.Length);
                await file.CopyToAsync(buffer, ct);
                files.Add(new ReplyAttachment(Path.GetFileName(file.FileName), string.IsNullOrEmpty(file.ContentType)
                    ? "application/octet-stream" : file.ContentType, buffer.ToArray()));
            }
        }
        else
        {
            ReplyRequest? body;
            try
            {
                body = await request.ReadFromJsonAsync<ReplyRequest>(ct);
            }
            catch (System.Text.Json.JsonException)
            {
                return Problems.BadRequest("Send JSON like {\"text\": \"…\", \"cc\": [\"ann@example.com\"]} or a multipart form.");
            }
            text = body?.Text;
            recipients = new ReplyRecipients(body?.To, body?.Cc, body?.Bcc);
            quote = body?.Quote;
        }
        var result = await replies.QueueReplyAsync(id, text, files, user.FindFirstValue(ClaimTypes.NameIdentifier), ct, recipients, quote);
        if (result.MessageId is { } messageId)
        {
            // The reply went: the sender's draft on the ticket is done with (their open pages clear their composers).
            await drafts.DeleteAsync(user.FindFirstValue(ClaimTypes.NameIdentifier)!, id, CancellationToken.None);
            return Results.Accepted($"/api/v1/tickets/{id}", new ReplyAccepted(messageId));
        }
        return result.TicketMissing ? Problems.NotFound(result.Error!) : Problems.BadRequest(result.Error!);
    }

    /// <summary>The ticket with a page of its messages: the last <paramref name="limit"/> before message <paramref name="before"/>.</summary>
    private static async Task<IResult> GetAsync(long id, long? before, int? limit, TicketQueries tickets, CancellationToken ct)
    {
        if (limit is < 1 or > TicketQueries.MaxMessageLimit)
            return Problems.BadRequest($"Limit must be between 1 and {TicketQueries.MaxMessageLimit} messages.");
        if (await tickets.GetHeaderAsync(id, ct) is not { } ticket)
            return Problems.NotFound($"There is no ticket #{id}.");
        // A merged ticket's number answers with the ticket it was merged into (the header says which).
        if (await tickets.MessagesAsync(ticket.Id, before, limit ?? TicketQueries.DefaultMessageLimit, ct) is not { } page)
            return Problems.BadRequest($"Message {before} is not in ticket #{id}: 'before' takes the id of one of its messages.");
        return Results.Ok(ticket with { Messages = page.Messages, HasOlder = page.HasOlder });
    }

    private static async Task<IResult> UpdateAsync(long id, TicketUpdate update, TicketCommands commands, TicketQueries tickets,
        ClaimsPrincipal user, CancellationToken ct)
    {
        TicketStatus? status = null;
        if (update.Status is not null)
        {
            if (!Enum.TryParse<TicketStatus>(update.Status, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || parsed == TicketStatus.Merged)
                return Problems.BadRequest("Status must be Open, Pending or Resolved.");
            status = parsed;
        }
        var snooze = update.SnoozedUntil.ValueKind != System.Text.Json.JsonValueKind.Undefined;
        DateTimeOffset? snoozedUntil = null;
        if (snooze && update.SnoozedUntil.ValueKind != System.Text.Json.JsonValueKind.Null)
        {
            if (SnoozeTime(update.SnoozedUntil) is not { } parsed)
                return Problems.BadRequest("'snoozedUntil' is a time with its offset, like \"2026-12-08T08:00:00+01:00\" or \"2026-12-08T07:00:00Z\" (null ends the snooze).");
            snoozedUntil = parsed;
        }
        if (status is null && update.AssigneeId is null && !snooze)
            return Problems.BadRequest("Nothing to change: send 'status', 'assigneeId' (\"\" to unassign) or 'snoozedUntil' (null to end the snooze).");
        var userId = user.FindFirstValue(ClaimTypes.NameIdentifier);
        // The snooze first: a time in the past is refused before anything else changes.
        if (snooze)
        {
            var snoozed = await commands.SnoozeAsync(id, snoozedUntil, userId, ct: ct);
            if (!snoozed.Found)
                return Problems.NotFound($"There is no ticket #{id}.");
            if (snoozed.Error is not null)
                return Problems.BadRequest(snoozed.Error);
        }
        var result = status is null && update.AssigneeId is null ? TicketChangeResult.Done
            : await commands.UpdateAsync(id, status, update.AssigneeId, ct, userId);
        if (!result.Found)
            return Problems.NotFound($"There is no ticket #{id}.");
        if (result.Error is not null)
            return Problems.BadRequest(result.Error);
        return Results.Ok(await tickets.GetAsync(id, ct));
    }

    // Only a time that says its offset: "08:00" alone would be read in the server's zone, which the caller cannot know.
    private static DateTimeOffset? SnoozeTime(System.Text.Json.JsonElement value) =>
        value.ValueKind == System.Text.Json.JsonValueKind.String && value.GetString() is { } text
        && DateTime.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind, out var kind)
        && kind.Kind != DateTimeKind.Unspecified
        && DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var time)
            ? time
            : null;

    private static async Task<IResult> ListAsync(Guid? botId, string? status, string? q, int? page, int? pageSize,
        TicketQueries tickets, CancellationToken ct)
    {
        TicketStatus? wanted = null;
        if (!string.IsNullOrWhiteSpace(status))
        {
            if (!Enum.TryParse<TicketStatus>(status, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || parsed == TicketStatus.Merged)
                return Problems.BadRequest("Status must be Open, Pending or Resolved.");
            wanted = parsed;
        }
        if (page is < 1)
            return Problems.BadRequest("Page counts from 1.");
        if (pageSize is < 1 or > TicketQueries.MaxPageSize)
            return Problems.BadRequest($"Page size must be between 1 and {TicketQueries.MaxPageSize}.");
        var result = await tickets.ListAsync(new TicketFilter(botId, wanted, q), page ?? 1, pageSize ?? 50, ct);
        return Results.Ok(new TicketList(result.Items, result.Total));
    }

    private static IResult Download(DownloadContent? content, string missing, bool inline = false)
    {
        if (content is null)
            return Problems.NotFound(missing);
        // Served as a download (or, for the console's inline images, as an image) with sniffing off, so a
        // customer's HTML or SVG attachment can never run as a page of ours.
        return new DownloadResult(content, inline && IsSafeInline(content.ContentType));
    }

    private static bool IsSafeInline(string contentType) =>
        contentType is "image/png" or "image/jpeg" or "image/gif" or "image/webp" or "image/bmp";

    private sealed class DownloadResult(DownloadContent content, bool inline) : IResult
    {
        public async Task ExecuteAsync(HttpContext http)
        {
            var headers = http.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
            // Customer files and raw mail: no shared or browser cache keeps a copy after sign-out.
            headers.CacheControl = "no-store";
            headers.ContentDisposition = new System.Net.Mime.ContentDisposition { FileName = Ascii(content.FileName), Inline = inline }.ToString()
                + $"; filename*=UTF-8''{Uri.EscapeDataString(content.FileName)}";
            http.Response.ContentType = content.ContentType;
            http.Response.ContentLength = content.Bytes.Length;
            await http.Response.Body.WriteAsync(content.Bytes, http.RequestAborted);
        }

        private static string Ascii(string name)
        {
            var ascii = new string(name.Select(c => c is >= ' ' and < (char)127 and not '"' and not '\\' ? c : '_').ToArray());
            return ascii.Length == 0 ? "download" : ascii;
        }
    }
}
