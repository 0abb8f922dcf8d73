using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Nodes;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Tickets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace ConnectiveOne.Core.Outbound;

/// <summary>
/// One delivery attempt of one outbox row: sends it through the relay, records the outcome on the row (and on
/// the ticket message for replies) and publishes <c>deliveryStatusChanged</c>.
/// </summary>
public sealed class OutboxDelivery(AppDbContext db, RelayClient relay, RetrySchedule schedule, ChangeNotifier notifier,
    TimeProvider clock, ILogger<OutboxDelivery> logger)
{
    public async Task<RelayOutcome> DeliverAsync(OutboundMail mail, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        MimeMessage message;
        using (var bytes = new MemoryStream(mail.Mime, writable: false))
            message = await MimeMessage.LoadAsync(bytes, ct);
        var recipients = InternetAddressList.Parse(mail.ToAddress).Mailboxes.ToList();

        var outcome = await relay.SendAsync(message, MailboxAddress.Parse(mail.FromAddress), recipients, ct);
        if (outcome.Kind != RelayOutcomeKind.NotConfigured)
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
            case RelayOutcomeKind.NotConfigured when mail.Kind == OutboundKind.Test:
                Set(mail, DeliveryState.Failed, outcome.Detail);
                break;
            case RelayOutcomeKind.NotConfigured:
                mail.Detail = outcome.Detail;
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
                    mail.Detail = $"Attempt {mail.Attempts} failed; trying again at {next.Value:yyyy-MM-dd HH:mm} UTC. {outcome.Detail}";
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

    private static void Set(OutboundMail mail, DeliveryState state, string detail)
    {
        mail.State = state;
        mail.Detail = detail;
        mail.NextAttemptAt = null;
    }
}
