using System.Buffers;
using ConnectiveOne.Core.Inbound.Intake;
using Microsoft.Extensions.Logging;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace ConnectiveOne.Core.Inbound.Smtp;

/// <summary>
/// The thin SMTP edge: copies the DATA bytes and hands them to intake. 250 only once intake says the message
/// is committed; 451 when it could not be (the sender keeps it and retries), 552 over the size limit. A message over
/// <see cref="SpoolAboveBytes"/> is copied to a spool file in the data folder instead of into memory, and intake reads it
/// from there (parse, attachments, database insert): in memory each large message cost several copies of itself, so
/// 20 concurrent 24 MB messages took the process to 1.9 GB (docs/RELIABILITY.md, "SMTP fair share").
/// </summary>
internal sealed class IntakeMessageStore(InboundIntake intake, TechnicalAddressLookup addresses, MessageSpool spool, DiskSpaceGuard disk,
    ILogger<IntakeMessageStore> logger) : IMessageStore
{
    /// <summary>
    /// Larger messages go through a spool file; smaller ones (nearly all mail) keep the in-memory path, which the ingest
    /// benchmark measures: their few copies are cheap, and a file per message would cost them system calls.
    /// </summary>
    internal const long SpoolAboveBytes = 1024 * 1024;

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
            // An mbox "From " line (which no SMTP client sends) is left to the in-memory parser, which knows it.
            if (buffer.Length <= SpoolAboveBytes || buffer.FirstSpan.StartsWith("From "u8))
                await intake.AcceptAsync(WithFinalLineEnd(buffer), recipients, envelopeSender, "smtp", cancellationToken);
            else if (disk.Shortage() is { } shortage)
                return RecipientFilter.InsufficientStorage(shortage); // checked at MAIL FROM; spooling needs room again
            else
                await intake.AcceptAsync(Spooled(buffer), recipients, envelopeSender, "smtp", cancellationToken);
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

    /// <summary>The message as sent (with its final CRLF, as <see cref="WithFinalLineEnd"/>) in a new spool file.</summary>
    private SpoolFile Spooled(ReadOnlySequence<byte> buffer)
    {
        var file = spool.Create();
        try
        {
            file.Write(buffer);
            file.Write("\r\n"u8);
            return file;
        }
        catch
        {
            file.Dispose(); // e.g. the disk filled up: 451, and the sender retries
            throw;
        }
    }
}
