using System.Buffers;
using ConnectiveOne.Core.Inbound.Intake;
using Microsoft.Extensions.Logging;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace ConnectiveOne.Core.Inbound.Smtp;

/// <summary>
/// The thin SMTP edge: copies the DATA bytes and hands them to intake. 250 only once intake says the message
/// is committed; 451 when it could not be (the sender keeps it and retries), 552 over the size limit.
/// </summary>
internal sealed class IntakeMessageStore(InboundIntake intake, TechnicalAddressLookup addresses, ILogger<IntakeMessageStore> logger) : IMessageStore
{
    public async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer,
        CancellationToken cancellationToken)
    {
        if (buffer.Length > intake.MaxMessageBytes)
            return new SmtpResponse(SmtpReplyCode.SizeLimitExceeded, $"5.3.4 Message too big: the limit is {intake.MaxMessageBytes} bytes");

        var recipients = new List<InboundAddress>(transaction.To.Count);
        foreach (var to in transaction.To)
        {
            if (RecipientFilter.Address(to) is { } address && await addresses.FindAsync(address, cancellationToken) is { } found)
                recipients.Add(found);
        }
        if (recipients.Count == 0)
            return new SmtpResponse(SmtpReplyCode.MailboxUnavailable, "5.1.1 No such mailbox here");

        var envelopeSender = RecipientFilter.Address(transaction.From) ?? "";
        try
        {
            await intake.AcceptAsync(buffer.ToArray(), recipients, envelopeSender, "smtp", cancellationToken);
            return new SmtpResponse(SmtpReplyCode.Ok, "2.0.0 Stored");
        }
        catch (MessageTooLargeException)
        {
            return new SmtpResponse(SmtpReplyCode.SizeLimitExceeded, $"5.3.4 Message too big: the limit is {intake.MaxMessageBytes} bytes");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(ex, "SMTP session {SessionId}: message not stored, answered 451", context.SessionId);
            return new SmtpResponse(SmtpReplyCode.Aborted, "4.3.0 Could not store the message right now; try again later");
        }
    }
}
