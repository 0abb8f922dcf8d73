using MimeKit;

namespace ConnectiveOne.Core.Tickets;

/// <summary>An address with the name it came with (null when none).</summary>
public sealed record NamedAddress(string Email, string? Name);

/// <summary>
/// Pure: who takes part in a conversation. Intake takes every person named in From, Reply-To, To and Cc of incoming
/// mail except our own addresses and machines (mailer-daemon, noreply…): a reply to those would bounce, loop or go
/// nowhere. A reply goes to the one whose message it answers (Reply-To honoured), copied to the other participants.
/// </summary>
public static class ConversationAddresses
{
    /// <summary>More than this many addresses of one message are not taken: a mail to a whole company is no conversation.</summary>
    public const int MaxPerMessage = 50;

    // Local parts that never stand for a person (RFC 2142 role mailboxes of mail systems, and the no-reply family).
    private static readonly HashSet<string> MachineLocalParts = new(StringComparer.OrdinalIgnoreCase)
    {
        "mailer-daemon", "mail-daemon", "maildaemon", "postmaster", "post_master", "noreply", "no-reply", "no_reply",
        "donotreply", "do-not-reply", "do_not_reply", "bounce", "bounces", "notifications-noreply",
    };

    /// <summary>Whether <paramref name="address"/> belongs to a mail system or says it reads no replies.</summary>
    public static bool IsMachine(string address)
    {
        var at = address.LastIndexOf('@');
        var local = at < 0 ? address : address[..at];
        return MachineLocalParts.Contains(local) || local.StartsWith("noreply", StringComparison.OrdinalIgnoreCase)
               || local.StartsWith("no-reply", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// The people of an incoming message (From, Reply-To, To, Cc in that order, lower case, each once) that a reply could
    /// reach: usable addresses that are neither ours (<paramref name="isOwn"/>) nor machines.
    /// </summary>
    public static IReadOnlyList<NamedAddress> PeopleIn(MimeMessage message, Func<string, bool> isOwn)
    {
        var people = new List<NamedAddress>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var mailbox in message.From.Mailboxes.Concat(message.ReplyTo.Mailboxes).Concat(message.To.Mailboxes).Concat(message.Cc.Mailboxes))
        {
            var email = mailbox.Address.Trim().ToLowerInvariant();
            // Cheapest first: most addresses of most mail are ours (the recipients) and parse no further.
            if (!seen.Add(email) || isOwn(email) || IsMachine(email) || CustomerAddress.ProblemWith(email) is not null)
                continue;
            people.Add(new NamedAddress(email, string.IsNullOrWhiteSpace(mailbox.Name) ? null : Cut(mailbox.Name.Trim(), 320)));
            if (people.Count == MaxPerMessage)
                break;
        }
        return people;
    }

    /// <summary>
    /// The default recipients of a reply (reply-all): To the address that <paramref name="answered"/> asks replies to go
    /// to (its Reply-To, else its sender; the customer when there is no message to answer or it was ours), Cc every
    /// other participant except third parties and <paramref name="isOwn"/> addresses. When the answered message's
    /// Reply-To differs from its sender (<paramref name="answeredSender"/>), the sender is not copied: Reply-To says where
    /// that person wants answers (RFC 5322 §3.6.2), as mail clients' "reply all" does.
    /// </summary>
    public static (IReadOnlyList<NamedAddress> To, IReadOnlyList<NamedAddress> Cc) ReplyAll(NamedAddress customer,
        IReadOnlyList<TicketParticipant> participants, NamedAddress? answered, Func<string, bool> isOwn, string? answeredSender = null)
    {
        var to = answered is { } a && CustomerAddress.ProblemWith(a.Email) is null && !isOwn(a.Email) ? a : customer;
        var cc = new List<NamedAddress>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { to.Email };
        if (to == answered && !string.IsNullOrEmpty(answeredSender))
            seen.Add(answeredSender);
        if (seen.Add(customer.Email) && customer.Email.Length > 0)
            cc.Add(customer);
        foreach (var p in participants.Where(p => p.Role != ParticipantRole.ThirdParty).OrderBy(p => p.AddedAt).ThenBy(p => p.Email, StringComparer.Ordinal))
        {
            if (!isOwn(p.Email) && !IsMachine(p.Email) && seen.Add(p.Email))
                cc.Add(new NamedAddress(p.Email, p.Name));
        }
        return ([to], cc);
    }

    private static string Cut(string text, int max) => text.Length <= max ? text : text[..max];
}
