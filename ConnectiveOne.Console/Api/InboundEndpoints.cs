using System.Security.Cryptography;
using System.Text;
using ConnectiveOne.Core;
using ConnectiveOne.Core.Inbound.Intake;
using ConnectiveOne.Core.Inbound.Smtp;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Console.Api;

/// <summary>
/// Mail by HTTP: a raw MIME webhook (shared token) and Mailgun's "store and notify" form (signed). Both use the
/// same intake as SMTP and answer 2xx only once the message is committed; 503 when it could not be stored.
/// </summary>
internal static class InboundEndpoints
{
    public sealed record Accepted(IReadOnlyList<IntakeDelivery> Deliveries);

    public static void MapInbound(this RouteGroupBuilder v1)
    {
        var inbound = v1.MapGroup("/inbound").WithTags("Inbound");
        // These check their own credentials (webhook token, Mailgun signature), not a user's, and take one message at most.
        var maxMessageBytes = ((IEndpointRouteBuilder)v1).ServiceProvider.GetRequiredService<IOptions<ConnectiveOneOptions>>().Value.Smtp.MaxMessageBytes;
        inbound.MapPost("/mime", MimeAsync).AllowAnonymous().WithBodyLimit(maxMessageBytes);
        inbound.MapPost("/mailgun", MailgunAsync).AllowAnonymous().DisableAntiforgery().WithBodyLimit(MailgunBodyLimit(maxMessageBytes));
    }

    private static async Task<IResult> MimeAsync(HttpContext http, string? recipient, IOptions<ConnectiveOneOptions> options,
        TechnicalAddressLookup addresses, InboundIntake intake, DiskSpaceGuard disk, ILoggerFactory loggers, CancellationToken ct)
    {
        var secret = options.Value.Inbound.WebhookToken;
        if (string.IsNullOrEmpty(secret))
            return Problems.NotFound("The MIME webhook is off: set ConnectiveOne:Inbound:WebhookToken to turn it on.");
        var presented = http.Request.Headers["X-Webhook-Token"].ToString();
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(secret)))
            return Problems.Result(StatusCodes.Status401Unauthorized, "The X-Webhook-Token header is missing or wrong.");
        if (string.IsNullOrWhiteSpace(recipient))
            return Problems.NotFound("The recipient is not one of our technical addresses.");
        var (address, unavailable) = await FindAsync(addresses, [recipient], loggers, ct);
        if (unavailable is not null)
            return unavailable;
        if (address is null)
            return Problems.NotFound("The recipient is not one of our technical addresses.");
        if (disk.Shortage() is { } shortage)
            return InsufficientStorage(shortage);

        var body = await ReadBodyAsync(http, intake.MaxMessageBytes, ct);
        if (body is null)
            return TooLarge(intake.MaxMessageBytes);
        if (body.Length == 0)
            return Problems.BadRequest("The body is empty: send the message as message/rfc822.");
        return await AcceptAsync(intake, body, address, "webhook", StatusCodes.Status202Accepted, loggers, ct);
    }

    private static async Task<IResult> MailgunAsync(HttpContext http, MailgunVerifier verifier, TechnicalAddressLookup addresses,
        InboundIntake intake, DiskSpaceGuard disk, MailgunReadSlots slots, IOptions<ConnectiveOneOptions> options, ILoggerFactory loggers,
        CancellationToken ct)
    {
        if (!verifier.IsConfigured)
            return Problems.NotFound("The Mailgun webhook is off: set ConnectiveOne:Inbound:MailgunSigningKey to turn it on.");
        if (disk.Shortage() is { } shortage)
            return InsufficientStorage(shortage);
        // A form whose signature comes last is spooled to disk before it can be judged. Many at once would keep thread
        // pool threads writing (and the kernel throttling them) while /health and the pages wait: a few at a time, the
        // others wait with their connections paused (the server stops reading their sockets).
        await slots.Gate.WaitAsync(ct);
        try
        {
            return await ReadMailgunAsync(http, MailgunForm.SpoolDirectory(options.Value.DataPath), verifier, addresses, intake, loggers, ct);
        }
        finally
        {
            slots.Gate.Release();
        }
    }

    private static async Task<IResult> ReadMailgunAsync(HttpContext http, string spoolDirectory, MailgunVerifier verifier,
        TechnicalAddressLookup addresses, InboundIntake intake, ILoggerFactory loggers, CancellationToken ct)
    {
        await using var form = await MailgunForm.ReadAsync(http.Request, spoolDirectory, intake.MaxMessageBytes, MailgunBodyLimit(intake.MaxMessageBytes),
            f => verifier.Check(f["timestamp"], f["token"], f["signature"]), ct);
        if (form.Refused is { } refused)
            return Problems.Result(refused.Status, refused.Title);

        var token = form["token"];
        if (await verifier.CheckAndTakeAsync(form["timestamp"], token, form["signature"], ct) is { } problem)
            return Problems.Result(StatusCodes.Status401Unauthorized, problem);
        IResult result;
        try
        {
            result = await AcceptMailgunAsync(form, addresses, intake, loggers, ct);
        }
        catch
        {
            await verifier.ReleaseAsync(token);
            throw;
        }
        // Mailgun sends the same token again after a failure on our side (or a form it must fix): let that retry in.
        if (result is IStatusCodeHttpResult { StatusCode: >= 500 or 400 })
            await verifier.ReleaseAsync(token);
        return result;
    }

    private static async Task<IResult> AcceptMailgunAsync(MailgunForm form, TechnicalAddressLookup addresses, InboundIntake intake,
        ILoggerFactory loggers, CancellationToken ct)
    {
        var (address, unavailable) = await FindAsync(addresses,
            form["recipient"].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), loggers, ct);
        if (unavailable is not null)
            return unavailable;
        if (address is null)
            return Problems.Result(StatusCodes.Status406NotAcceptable, "The recipient is not one of our technical addresses.");
        if (!form.HasMime)
            return Problems.BadRequest("The form has no body-mime field: use Mailgun's \"store and notify\" with the MIME URL (…/mime).");
        return await AcceptAsync(intake, await form.MimeBytesAsync(ct), address, "mailgun", StatusCodes.Status200OK, loggers, ct);
    }

    /// <summary>How many Mailgun forms are read at once (see <see cref="MailgunAsync"/>).</summary>
    internal sealed class MailgunReadSlots
    {
        public SemaphoreSlim Gate { get; } = new(4);
    }

    /// <summary>
    /// The whole Mailgun form may be this large: the message (body-mime) plus, in Mailgun's other formats, its attachments
    /// again as parts, and a little for the other fields.
    /// </summary>
    public static long MailgunBodyLimit(long maxMessageBytes) => maxMessageBytes * 2 + 65536;

    /// <summary>The first recipient that is ours; 503 when the database cannot tell (the sender tries again later).</summary>
    private static async Task<(InboundAddress? Address, IResult? Unavailable)> FindAsync(TechnicalAddressLookup addresses,
        IEnumerable<string> recipients, ILoggerFactory loggers, CancellationToken ct)
    {
        try
        {
            foreach (var candidate in recipients)
                if (await addresses.FindAsync(candidate, ct) is { } address)
                    return (address, null);
            return (null, null);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            loggers.CreateLogger("ConnectiveOne.Api.Inbound").LogWarning(e, "Inbound recipient not looked up");
            return (null, Problems.Result(StatusCodes.Status503ServiceUnavailable, "The recipient could not be checked right now; send the message again later."));
        }
    }

    private static async Task<IResult> AcceptAsync(InboundIntake intake, byte[] raw, InboundAddress address, string source, int success,
        ILoggerFactory loggers, CancellationToken ct)
    {
        try
        {
            var result = await intake.AcceptAsync(raw, [address], envelopeSender: null, source, ct);
            return TypedResults.Json(new Accepted(result.Deliveries), statusCode: success);
        }
        catch (MessageTooLargeException e)
        {
            return TooLarge(e.Limit);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            loggers.CreateLogger("ConnectiveOne.Api.Inbound").LogWarning(e, "Inbound {Source} message not stored", source);
            return Problems.Result(StatusCodes.Status503ServiceUnavailable, "The message could not be stored right now; send it again later.");
        }
    }

    /// <summary>The body, or null when it is longer than <paramref name="limit"/>.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpContext http, long limit, CancellationToken ct)
    {
        if (http.Request.ContentLength > limit)
            return null;
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        try
        {
            int read;
            while ((read = await http.Request.Body.ReadAsync(chunk, ct)) > 0)
            {
                if (buffer.Length + read > limit)
                    return null;
                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }
        return buffer.ToArray();
    }

    /// <summary>507 before the body is read: the sender keeps the message and retries (a 5xx to HTTP, not a refusal of the mail).</summary>
    private static IResult InsufficientStorage(string shortage) =>
        Problems.Result(StatusCodes.Status507InsufficientStorage, $"The server is short of disk space ({shortage}); send the message again later.");

    private static IResult TooLarge(long limit) =>
        Problems.Result(StatusCodes.Status413PayloadTooLarge, $"The message is larger than the limit of {limit} bytes.");
}
