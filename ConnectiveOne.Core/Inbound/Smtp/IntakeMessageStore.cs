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
        // SmtpServer un-stuffs dots only after a CRLF inside the data, but the first line follows the CRLF of the DATA
        // command, which it has consumed: RFC 5321 §4.5.2 is applied to that line here.
        Span<byte> head = stackalloc byte[3];
        var headLength = (int)Math.Min(head.Length, buffer.Length);
        buffer.Slice(0, headLength).CopyTo(head);
        if (headLength > 0 && head[0] == (byte)'.')
        {
            // A lone dot there ended the message at once; what followed was meant as commands, not as this message.
            if (headLength == 3 && head[1] == (byte)'\r' && head[2] == (byte)'\n')
                return new SmtpResponse(SmtpReplyCode.TransactionFailed, "5.6.0 Empty message: the data ended at its first line");
            buffer = buffer.Slice(1);
        }

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
            await intake.AcceptAsync(WithFinalLineEnd(buffer), recipients, envelopeSender, "smtp", cancellationToken);
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

    /// <summary>
    /// The message as sent: SmtpServer counts the CRLF that ends the last line as part of CRLF.CRLF and leaves it
    /// out, so without it a message from SMTP would differ from the same message from a webhook.
    /// </summary>
    private static byte[] WithFinalLineEnd(ReadOnlySequence<byte> buffer)
    {
        var raw = new byte[buffer.Length + 2];
        buffer.CopyTo(raw);
        raw[^2] = (byte)'\r';
        raw[^1] = (byte)'\n';
        return raw;
    }
}
