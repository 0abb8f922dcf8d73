using System.Globalization;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Inbound.Bounces;
using ConnectiveOne.Core.Notifications;
using ConnectiveOne.Core.Tickets;
using Microsoft.Extensions.Logging;

namespace ConnectiveOne.Core.Inbound.Intake;

/// <summary>
/// A bounce that names one of our sent messages, inside the intake writer's batch: marks that message Bounced (or notes
/// the delay) with the diagnostic and recipient, keeps the report's bytes as a <see cref="DeliveryReport"/> linked to it,
/// and raises <c>deliveryStatusChanged</c> for it. The report opens no ticket and joins no conversation. A bounce naming
/// none of our sent messages is left to the normal path (stored and flagged, as before).
/// </summary>
internal static class DeliveryReportWriter
{
    /// <summary>The outcome, or null when the report names no outbound message of this address.</summary>
    public static async Task<DeliveryOutcome?> TryRecordAsync(PreparedMessage m, BounceReport report, Guid addressId, BatchState state,
        ILogger logger)
    {
        var rows = await state.Rows.SelectAsync<TicketMessage>(
            [nameof(TicketMessage.Id), nameof(TicketMessage.TicketId), nameof(TicketMessage.Direction), nameof(TicketMessage.MessageIdHeader),
                nameof(TicketMessage.Delivery), nameof(TicketMessage.DeliveryDetail), nameof(TicketMessage.BouncedRecipient), nameof(TicketMessage.AuthorUserId)],
            new IntakeRows.Where(nameof(TicketMessage.AddressId), [addressId]),
            new IntakeRows.Where(nameof(TicketMessage.MessageIdHeader), report.OriginalMessageIds.Cast<object>().ToList()));
        // The report's most trustworthy id first (the returned message's own header before ids quoted in its text).
        var sent = rows.Where(r => (MessageDirection)r[2]! == MessageDirection.Outbound)
            .OrderBy(r => IndexOf(report.OriginalMessageIds, (string)r[3]!)).FirstOrDefault();
        if (sent is null)
            return null;
        var messageId = (long)sent[0]!;
        var ticketId = (long)sent[1]!;

        if (!state.Reports.Add((addressId, m.DedupKey)) || (await state.Rows.SelectAsync<DeliveryReport>([nameof(DeliveryReport.Id)],
                new IntakeRows.Where(nameof(DeliveryReport.AddressId), [addressId]),
                new IntakeRows.Where(nameof(DeliveryReport.DedupKey), [m.DedupKey]))).Count > 0)
            return new DeliveryOutcome(addressId, IntakeOutcome.Duplicate, Earlier: (messageId, ticketId));

        var message = new TicketMessage
        {
            Id = messageId,
            DedupKey = "",
            FromAddress = "",
            Delivery = (DeliveryState?)sent[4],
            DeliveryDetail = (string?)sent[5],
            BouncedRecipient = (string?)sent[6],
        };
        var changed = Apply(report, message);
        await state.Rows.InsertAsync(new DeliveryReport
        {
            MessageId = messageId,
            AddressId = addressId,
            DedupKey = m.DedupKey,
            ReceivedAt = state.Now,
            Action = report.Action,
            Recipient = MessagePreparer.Cut(report.RecipientText, 1000),
            Status = MessagePreparer.Cut(report.Status, 16),
            Diagnostic = MessagePreparer.Cut(report.Diagnostic, 1000)!,
            FromAddress = m.FromAddress,
            Subject = m.Subject,
            Raw = m.Raw,
        });
        if (changed)
        {
            await state.Rows.UpdateDeliveryAsync(message);
            var author = (string?)sent[7];
            state.Events.Add(new ChangeEvent(ChangeKind.DeliveryStatusChanged, messageId.ToString(CultureInfo.InvariantCulture),
                Summary(report, ticketId)) { ForUserId = author });
            if (author is not null)
                state.Bounces.Add(new IntakeNotifications.BounceNotice(author, ticketId, Summary(report, ticketId)));
        }
        logger.LogInformation("Delivery report {DedupKey} ({Action}, status {Status}) recorded on sent message {MessageId} of ticket {TicketId}",
            m.DedupKey, report.Action, report.Status, messageId, ticketId);
        return new DeliveryOutcome(addressId, IntakeOutcome.DeliveryReportRecorded, Earlier: (messageId, ticketId));
    }

    /// <summary>
    /// What the report changes on the sent message: a failure marks it Bounced; a delay is noted while it is not
    /// bounced (a late warning never undoes a bounce); a success report changes nothing. Returns whether it changed.
    /// </summary>
    internal static bool Apply(BounceReport report, TicketMessage message)
    {
        switch (report.Action)
        {
            case BounceAction.Failed:
                message.Delivery = DeliveryState.Bounced;
                message.DeliveryDetail = MessagePreparer.Cut(report.Diagnostic, 2000);
                message.BouncedRecipient = MessagePreparer.Cut(report.RecipientText, 1000);
                return true;
            case BounceAction.Delayed when message.Delivery != DeliveryState.Bounced:
                message.DeliveryDetail = MessagePreparer.Cut($"Delayed{(report.RecipientText is { } to ? $" for {to}" : "")}: {report.Diagnostic}", 2000);
                return true;
            default:
                return false;
        }
    }

    private static string Summary(BounceReport report, long ticketId) => report.Action == BounceAction.Failed
        ? $"Your reply on #{ticketId} bounced{(report.RecipientText is { } to ? $" ({to})" : "")}: {report.Diagnostic}"
        : $"Your reply on #{ticketId} is delayed: {report.Diagnostic}";

    private static int IndexOf(IReadOnlyList<string> ids, string id)
    {
        for (var i = 0; i < ids.Count; i++)
        {
            if (string.Equals(ids[i], id, StringComparison.Ordinal))
                return i;
        }
        return int.MaxValue;
    }
}
