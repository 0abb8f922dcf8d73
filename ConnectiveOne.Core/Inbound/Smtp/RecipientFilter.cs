using ConnectiveOne.Core.Inbound.Intake;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace ConnectiveOne.Core.Inbound.Smtp;

/// <summary>
/// RCPT TO accepts only our technical addresses (550 5.1.1 otherwise), so nothing is ever relayed, and at most
/// <c>MaxRecipients</c> of them per transaction (452 beyond). MAIL FROM is accepted from anyone, including
/// the null sender (bounces must reach us), but a declared SIZE over the limit gets 552 at once, and a nearly full
/// disk 452 4.3.1 (before DATA, so nothing is taken that could not be kept).
/// </summary>
internal sealed class RecipientFilter(TechnicalAddressLookup addresses, DiskSpaceGuard disk, int maxRecipients, long maxMessageBytes)
    : IMailboxFilter
{
    private const string CountKey = "c1.recipients";

    public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken)
    {
        if (size > maxMessageBytes)
            throw new SmtpResponseException(new SmtpResponse(SmtpReplyCode.SizeLimitExceeded,
                $"5.3.4 Message too big: the limit is {maxMessageBytes} bytes"));
        if (disk.Shortage() is { } shortage)
            throw new SmtpResponseException(new SmtpResponse(SmtpReplyCode.InsufficientStorage,
                $"4.3.1 Insufficient system storage ({shortage}); try again later"));
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
        if (address is null || await addresses.FindAsync(address, cancellationToken) is null)
            throw new SmtpResponseException(new SmtpResponse(SmtpReplyCode.MailboxUnavailable, "5.1.1 No such mailbox here"));
        context.Properties[CountKey] = count + 1;
        return true;
    }

    /// <summary>The address as <c>user@host</c>, or null for the null path, a bare local part or an odd form.</summary>
    public static string? Address(IMailbox? mailbox)
    {
        if (mailbox is null || string.IsNullOrEmpty(mailbox.User) || string.IsNullOrEmpty(mailbox.Host))
            return null;
        var address = $"{mailbox.User}@{mailbox.Host}";
        return TechnicalAddressLookup.IsPlainAddress(address) ? address : null;
    }
}
