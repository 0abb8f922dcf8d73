using ConnectiveOne.Core.Inbound.Intake;
using Microsoft.Extensions.Logging;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace ConnectiveOne.Core.Inbound.Smtp;

/// <summary>
/// RCPT TO accepts only our technical addresses (550 5.1.1 otherwise), so nothing is ever relayed, and at most
/// <c>MaxRecipients</c> of them per transaction (452 beyond). MAIL FROM is accepted from anyone, including
/// the null sender (bounces must reach us), but a declared SIZE over the limit gets 552 at once, and a nearly full
/// disk 452 4.3.1 (before DATA, so nothing is taken that could not be kept). When the database cannot answer whether
/// a recipient is ours (a PostgreSQL server that is down), RCPT gets 451 rather than a dropped session.
/// </summary>
internal sealed class RecipientFilter(TechnicalAddressLookup addresses, DiskSpaceGuard disk, int maxRecipients, long maxMessageBytes,
    ILogger logger) : IMailboxFilter
{
    private const string CountKey = "c1.recipients";

    public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken)
    {
        if (size > maxMessageBytes)
            throw new SmtpResponseException(new SmtpResponse(SmtpReplyCode.SizeLimitExceeded,
                $"5.3.4 Message too big: the limit is {maxMessageBytes} bytes"));
        if (disk.Shortage() is { } shortage)
            throw new SmtpResponseException(InsufficientStorage(shortage));
        context.Properties[CountKey] = 0;
        return Task.FromResult(true);
    }

    public async Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken)
    {
        var count = context.Properties.TryGetValue(CountKey, out var value) ? (int)value : 0;
        if (count >= maxRecipients)
            throw new SmtpResponseException(new SmtpResponse(SmtpReplyCode.InsufficientStorage,
                $"4.5.3 Too many recipients: at most {maxRecipients} per message"));
        var address = Address(to);
        if (address is null || await FindAsync(address, context, cancellationToken) is null)
            throw new SmtpResponseException(new SmtpResponse(SmtpReplyCode.MailboxUnavailable, "5.1.1 No such mailbox here"));
        context.Properties[CountKey] = count + 1;
        return true;
    }

    private async Task<InboundAddress?> FindAsync(string address, ISessionContext context, CancellationToken cancellationToken)
    {
        try
        {
            return await addresses.FindAsync(address, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(ex, "SMTP session {SessionId}: recipient not looked up, answered 451", context.SessionId);
            throw new SmtpResponseException(new SmtpResponse(SmtpReplyCode.Aborted, "4.3.0 Could not check the recipient right now; try again later"));
        }
    }

    /// <summary>452 4.3.1 with the <see cref="DiskSpaceGuard.Shortage"/> in words: the sender keeps the message and retries.</summary>
    internal static SmtpResponse InsufficientStorage(string shortage) =>
        new(SmtpReplyCode.InsufficientStorage, $"4.3.1 Insufficient system storage ({shortage}); try again later");

    /// <summary>The address as <c>user@host</c>, or null for the null path, a bare local part or an odd form.</summary>
    public static string? Address(IMailbox? mailbox)
    {
        if (mailbox is null || string.IsNullOrEmpty(mailbox.User) || string.IsNullOrEmpty(mailbox.Host))
            return null;
        var address = $"{mailbox.User}@{mailbox.Host}";
        return TechnicalAddressLookup.IsPlainAddress(address) ? address : null;
    }
}
