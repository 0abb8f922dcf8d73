using ConnectiveOne.Core.Addresses;
using MimeKit;

namespace ConnectiveOne.Core.Tickets;

/// <summary>
/// Pure: whether an address can take a reply, and which address of an incoming message is the customer's. A ticket's
/// customer is the one address every reply is sent to, so it must be one a relay accepts: one mail with an empty,
/// cut or unparsable sender used to make every reply to it throw in the outbox (issue #12).
/// </summary>
public static class CustomerAddress
{
    /// <summary>Null when <paramref name="address"/> can take mail; otherwise why not, in words.</summary>
    /// <remarks>
    /// The rules of our own corporate addresses (<see cref="EmailAddressRules.TryParse"/>: one bare address, a domain
    /// with a dot, RFC 5321 lengths), which are what a relay takes as a recipient.
    /// </remarks>
    public static string? ProblemWith(string? address)
    {
        if (string.IsNullOrWhiteSpace(address))
            return "there is no address.";
        if (address.Any(char.IsControl))
            return "the address contains a line break or another control character.";
        return EmailAddressRules.TryParse(address, out var problem) is null ? problem : null;
    }

    /// <summary>Null when a ticket whose customer is <paramref name="customer"/> can be replied to; otherwise why not.</summary>
    public static string? NoReplyAddress(string? customer) =>
        string.IsNullOrWhiteSpace(customer)
            ? "This ticket has no reply address: the customer's mail had no usable From, Reply-To, Sender or envelope sender."
            : ProblemWith(customer) is { } problem ? $"This ticket has no reply address: {problem}" : null;

    /// <summary>Whether the address is one of ours: on the inbound domain (technical addresses) or in <paramref name="own"/>.</summary>
    public static bool IsOwn(string address, string inboundDomain, IEnumerable<string> own)
    {
        var normalized = address.Trim().ToLowerInvariant();
        var domain = inboundDomain.Trim().TrimEnd('.').ToLowerInvariant();
        return normalized.EndsWith("@" + domain, StringComparison.Ordinal)
               || own.Any(o => string.Equals(o.Trim(), normalized, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// The customer of an incoming message: the first usable address that is not ours among From, Reply-To, Sender and the
    /// envelope sender (<paramref name="message"/> null for mail that could not be parsed); null when there is none.
    /// </summary>
    public static MailboxAddress? Choose(MimeMessage? message, string? envelopeSender, Func<string, bool> isOwn)
    {
        var candidates = message is null
            ? []
            : message.From.Mailboxes.Concat(message.ReplyTo.Mailboxes).Concat(message.Sender is { } sender ? [sender] : []);
        if (!string.IsNullOrWhiteSpace(envelopeSender) && MailboxAddress.TryParse(envelopeSender.Trim(), out var envelope))
            candidates = candidates.Append(envelope);
        return candidates.FirstOrDefault(m => ProblemWith(m.Address) is null && !isOwn(m.Address));
    }
}
