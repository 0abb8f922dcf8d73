using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Nodes;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Tickets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace ConnectiveOne.Core.Outbound;

/// <summary>
/// One delivery attempt of one outbox row: checks it can be sent at all, sends it through the relay, records the outcome
/// on the row (and on the ticket message for replies) and publishes <c>deliveryStatusChanged</c>. A row that cannot be
/// sent (no or an unusable recipient, one of our own addresses, bytes that do not load, a message the mail client
/// refuses) ends <see cref="DeliveryState.Failed"/> with the reason, like a relay's refusal: it never throws out of here
/// to stop the outbox for the mail behind it.
/// </summary>
public sealed class OutboxDelivery(AppDbContext db, RelayClient relay, OutboundComposer composer, RetrySchedule schedule,
    ChangeNotifier notifier, TimeProvider clock, ILogger<OutboxDelivery> logger)
{
    /// <summary>How much of a reason is kept: relays and exceptions can say a lot.</summary>
    private const int MaxDetail = 2000;

    public async Task<RelayOutcome> DeliverAsync(OutboundMail mail, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var outcome = await SendAsync(mail, ct);
        if (outcome.Kind is not (RelayOutcomeKind.NotConfigured or RelayOutcomeKind.Unsendable))
        {
            mail.Attempts++;
            mail.LastAttemptAt = now;
        }

        switch (outcome.Kind)
        {
            case RelayOutcomeKind.Accepted:
                Set(mail, DeliveryState.Sent, outcome.Detail);
                mail.SentAt = now;
                break;
            case RelayOutcomeKind.PermanentFailure:
                Set(mail, DeliveryState.Failed, $"The relay refused it: {outcome.Detail}");
                break;
            case RelayOutcomeKind.Unsendable:
                Set(mail, DeliveryState.Failed, $"Not sent: {outcome.Detail}");
                break;
            case RelayOutcomeKind.NotConfigured when mail.Kind == OutboundKind.Test:
                Set(mail, DeliveryState.Failed, outcome.Detail);
                break;
            case RelayOutcomeKind.NotConfigured:
                mail.Detail = Readable(outcome.Detail);
                break;
            case RelayOutcomeKind.TemporaryFailure when mail.Kind == OutboundKind.Test:
                // A test shows what the relay says now; the admin can simply try again.
                Set(mail, DeliveryState.Failed, outcome.Detail);
                break;
            case RelayOutcomeKind.TemporaryFailure:
                var next = schedule.NextAttempt(mail.Attempts, mail.CreatedAt, now);
                if (next is null)
                    Set(mail, DeliveryState.Failed,
                        $"Gave up after {schedule.GiveUpAfter.TotalHours:0} hours of retrying. Last answer: {outcome.Detail}");
                else
                {
                    mail.NextAttemptAt = next;
                    mail.Detail = Readable($"Attempt {mail.Attempts} failed; trying again at {next.Value:yyyy-MM-dd HH:mm} UTC. {outcome.Detail}");
                }
                break;
        }

        // Recorded together with the outcome: the mail is free for the next attempt (or done).
        WorkLeases.Release(mail);
        if (mail.TicketMessageId is { } messageId && await db.Messages.FindAsync([messageId], ct) is { } ticketMessage)
        {
            ticketMessage.Delivery = mail.State;
            ticketMessage.DeliveryDetail = mail.Detail;
        }
        await db.SaveChangesAsync(ct);

        logger.LogInformation("Outbound {Kind} mail {MailId} attempt {Attempt}: {State}", mail.Kind, mail.Id, mail.Attempts, mail.State);
        notifier.Publish(new ChangeEvent(ChangeKind.DeliveryStatusChanged,
            (mail.TicketMessageId?.ToString() ?? mail.Id.ToString()), $"{mail.Kind} to {mail.ToAddress}: {mail.State}"));
        return outcome;
    }

    /// <summary>
    /// Marks a mail whose delivery attempt failed in an unforeseen way (<paramref name="error"/>) as Failed with that
    /// reason, on a fresh context (the delivery's own may be what failed), so the outbox goes on with the next mail
    /// rather than claiming this one first again forever.
    /// </summary>
    public static async Task RecordFailureAsync(AppDbContext db, Guid mailId, long? ticketMessageId, Exception error, CancellationToken ct)
    {
        var detail = Readable($"Not sent: ConnectiveOne could not process this mail ({error.GetType().Name}: {error.Message})");
        await db.Outbox.Where(m => m.Id == mailId && m.State == DeliveryState.Queued).ExecuteUpdateAsync(set => set
            .SetProperty(m => m.State, DeliveryState.Failed)
            .SetProperty(m => m.Detail, detail)
            .SetProperty(m => m.NextAttemptAt, (DateTimeOffset?)null)
            .SetProperty(m => m.LeaseOwner, (string?)null)
            .SetProperty(m => m.LeaseExpiresAt, (DateTimeOffset?)null), ct);
        if (ticketMessageId is { } messageId)
            await db.Messages.Where(m => m.Id == messageId).ExecuteUpdateAsync(set => set
                .SetProperty(m => m.Delivery, DeliveryState.Failed)
                .SetProperty(m => m.DeliveryDetail, detail), ct);
    }

    /// <summary>The relay's verdict, or why the mail is <see cref="RelayOutcomeKind.Unsendable"/> before it is asked.</summary>
    private async Task<RelayOutcome> SendAsync(OutboundMail mail, CancellationToken ct)
    {
        // A line break is never part of what we queue: such a value could name more recipients than the one meant.
        if (mail.ToAddress.Any(char.IsControl) || !InternetAddressList.TryParse(mail.ToAddress, out var list) || list.Mailboxes.ToList() is not { Count: > 0 } recipients)
            return Unsendable($"no recipient: {CustomerAddress.ProblemWith(mail.ToAddress) ?? $"\"{mail.ToAddress}\" names no mailbox."}");
        foreach (var recipient in recipients)
        {
            // A forwarding test goes to our own corporate address on purpose; a reply there would loop.
            var problem = mail.Kind is OutboundKind.Reply or OutboundKind.Notification
                ? await composer.ReplyRecipientProblemAsync(recipient.Address, ct)
                : CustomerAddress.ProblemWith(recipient.Address);
            if (problem is not null)
                return Unsendable(problem);
        }
        if (!MailboxAddress.TryParse(mail.FromAddress, out var sender))
            return Unsendable($"the sender address \"{mail.FromAddress}\" is not an address.");

        MimeMessage message;
        try
        {
            using var bytes = new MemoryStream(mail.Mime, writable: false);
            message = await MimeMessage.LoadAsync(bytes, ct);
        }
        catch (FormatException e)
        {
            return Unsendable($"the stored message cannot be read ({e.Message}).");
        }
        return await relay.SendAsync(message, sender, recipients, ct);
    }

    private static RelayOutcome Unsendable(string reason) => new(RelayOutcomeKind.Unsendable, reason);

    private static void Set(OutboundMail mail, DeliveryState state, string detail)
    {
        mail.State = state;
        mail.Detail = Readable(detail);
        mail.NextAttemptAt = null;
    }

    /// <summary>
    /// One line of printable text within <see cref="MaxDetail"/>: reasons come from relays and exceptions, and a NUL or a
    /// runaway answer must not make the outcome itself unsavable (PostgreSQL refuses NUL in text).
    /// </summary>
    private static string Readable(string text)
    {
        var printable = new string(text.Select(c => char.IsControl(c) ? ' ' : c).ToArray()).Trim();
        return printable.Length <= MaxDetail ? printable : printable[..(MaxDetail - 1)] + "…";
    }
}
