using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Core.Inbound.Intake;

/// <summary>
/// The one way mail comes in (SMTP and both webhooks): prepare on the caller's thread, then hand over to the
/// <see cref="IntakeWriter"/> and wait until the message is committed. Completing means durable.
/// </summary>
public sealed class InboundIntake(MessagePreparer preparer, IntakeWriter writer, IOptions<ConnectiveOneOptions> options,
    ILogger<InboundIntake> logger)
{
    public long MaxMessageBytes { get; } = options.Value.Smtp.MaxMessageBytes;

    /// <summary>Stores <paramref name="raw"/> for each recipient address and returns once it is committed.</summary>
    /// <param name="raw">The message exactly as received (kept as is).</param>
    /// <param name="recipients">Our addresses it was sent to; at least one.</param>
    /// <param name="envelopeSender">MAIL FROM ("" for the null sender), or null when the channel does not say.</param>
    /// <param name="source">Where it came from, for the log: "smtp", "webhook", "mailgun".</param>
    /// <param name="cancellationToken">Stops waiting (the message may still be committed).</param>
    /// <exception cref="MessageTooLargeException">Over <c>ConnectiveOne:Smtp:MaxMessageBytes</c>; nothing is stored.</exception>
    public async Task<IntakeResult> AcceptAsync(byte[] raw, IReadOnlyList<InboundAddress> recipients, string? envelopeSender,
        string source, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfZero(recipients.Count);
        if (raw.LongLength > MaxMessageBytes)
        {
            logger.LogInformation("Refused a {Size}-byte message from {Source}: over the {Limit}-byte limit", raw.LongLength, source, MaxMessageBytes);
            throw new MessageTooLargeException(raw.LongLength, MaxMessageBytes);
        }
        var started = Stopwatch.GetTimestamp();
        var own = recipients.SelectMany(r => new[] { r.Email, r.TechnicalAddress });
        var prepared = preparer.Prepare(raw, envelopeSender, own, cancellationToken);
        prepared.PrepareTime = Stopwatch.GetElapsedTime(started);
        if (prepared.ParseError is not null)
            logger.LogWarning("Message {DedupKey} from {Source} could not be parsed ({ParseError}); it is stored as raw bytes",
                prepared.DedupKey, source, prepared.ParseError);
        if (prepared.FlagReasons.Count > 0)
            logger.LogInformation("Message {DedupKey} is automatic mail: {Reasons}", prepared.DedupKey, string.Join("; ", prepared.FlagReasons));
        return await writer.SubmitAsync(prepared, recipients.Select(r => r.Id).Distinct().ToList(), cancellationToken);
    }
}
