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
    public Task<IntakeResult> AcceptAsync(byte[] raw, IReadOnlyList<InboundAddress> recipients, string? envelopeSender,
        string source, CancellationToken cancellationToken) =>
        AcceptAsync(raw.LongLength, own => preparer.Prepare(raw, envelopeSender, own, cancellationToken), recipients, source, cancellationToken);

    /// <summary>
    /// Stores a large message from its spool file, as <see cref="AcceptAsync(byte[], IReadOnlyList{InboundAddress}, string?, string, CancellationToken)"/>
    /// does from memory. Takes <paramref name="raw"/> over in every case: it is deleted once the message is committed or refused.
    /// </summary>
    public async Task<IntakeResult> AcceptAsync(SpoolFile raw, IReadOnlyList<InboundAddress> recipients, string? envelopeSender,
        string source, CancellationToken cancellationToken)
    {
        var handedOver = false;
        try
        {
            return await AcceptAsync(raw.Length, own =>
            {
                var prepared = preparer.Prepare(raw, envelopeSender, own, cancellationToken);
                handedOver = true; // the prepared message owns the file now, and the writer disposes it
                return prepared;
            }, recipients, source, cancellationToken);
        }
        finally
        {
            if (!handedOver)
                raw.Dispose();
        }
    }

    private async Task<IntakeResult> AcceptAsync(long size, Func<IEnumerable<string>, PreparedMessage> prepare, IReadOnlyList<InboundAddress> recipients,
        string source, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfZero(recipients.Count);
        if (size > MaxMessageBytes)
        {
            logger.LogInformation("Refused a {Size}-byte message from {Source}: over the {Limit}-byte limit", size, source, MaxMessageBytes);
            throw new MessageTooLargeException(size, MaxMessageBytes);
        }
        var started = Stopwatch.GetTimestamp();
        var prepared = prepare(recipients.SelectMany(r => new[] { r.Email, r.TechnicalAddress }));
        prepared.PrepareTime = Stopwatch.GetElapsedTime(started);
        if (prepared.ParseError is not null)
            logger.LogWarning("Message {DedupKey} from {Source} could not be parsed ({ParseError}); it is stored as raw bytes",
                prepared.DedupKey, source, prepared.ParseError);
        if (prepared.FlagReasons.Count > 0)
            logger.LogInformation("Message {DedupKey} is automatic mail: {Reasons}", prepared.DedupKey, string.Join("; ", prepared.FlagReasons));
        return await writer.SubmitAsync(prepared, recipients.Select(r => r.Id).Distinct().ToList(), cancellationToken);
    }
}
