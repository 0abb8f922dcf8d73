using System.Text.RegularExpressions;
using MimeKit;

namespace ConnectiveOne.Core.Inbound;

/// <summary>
/// Spots mail that reached us by "forward" (a new message written by the corporate mailbox) instead of
/// "redirect" (the customer's original message passed on). Forwarded mail loses the customer as sender,
/// so the address's forwarding status should say so (API: <c>ForwardedNotRedirected</c>).
/// </summary>
public static partial class ForwardedAsDetector
{
    /// <summary>Null when the message looks redirected (or simply direct); otherwise why it looks forwarded.</summary>
    /// <param name="message">The message received at the technical address.</param>
    /// <param name="corporateAddress">The corporate address that forwards to us, e.g. support@acme.com.</param>
    public static string? Detect(MimeMessage message, string corporateAddress)
    {
        var corporate = corporateAddress.Trim();
        var from = message.From.Mailboxes.FirstOrDefault()?.Address;
        if (from is not null && from.Equals(corporate, StringComparison.OrdinalIgnoreCase))
            return $"The sender is {corporate} itself, so the mail was forwarded as a new message rather than redirected.";

        var subject = message.Subject ?? "";
        var prefix = ForwardPrefix().Match(subject);
        if (!prefix.Success)
            return null;

        var attached = message.BodyParts.OfType<MessagePart>().Any()
            || message.Attachments.Any(a => a.ContentType.IsMimeType("message", "rfc822"));
        if (attached)
            return $"The subject starts with \"{prefix.Value.Trim()}\" and the original is attached as message/rfc822, so the mail was forwarded rather than redirected.";

        var text = message.TextBody ?? StripTags(message.HtmlBody ?? "");
        var marker = ForwardMarker().Match(text);
        if (marker.Success)
            return $"The subject starts with \"{prefix.Value.Trim()}\" and the body quotes the original (\"{marker.Value.Trim()}\"), so the mail was forwarded rather than redirected.";
        return null;
    }

    private static string StripTags(string html) => Tags().Replace(html, "\n").Replace("&nbsp;", " ", StringComparison.OrdinalIgnoreCase);

    [GeneratedRegex(@"^\s*(fwd?|wg|tr|rv|enc|vs|vb|doorst|pd|i|ilt)\s*:", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ForwardPrefix();

    // Gmail, Outlook, Apple Mail, Thunderbird and their German/French/Spanish/Dutch variants.
    [GeneratedRegex(@"(-{2,}\s*(forwarded message|original message|weitergeleitete nachricht|ursprüngliche nachricht|original-nachricht|message transféré|message d'origine|mensaje reenviado|mensaje original|doorgestuurd bericht|oorspronkelijk bericht)\s*-{2,}|begin forwarded message:|anfang der weitergeleiteten nachricht:|début du message réexpédié|^\s*from:\s.+\r?\n\s*(sent|date):\s.+\r?\n(\s*to:\s)?)", RegexOptions.IgnoreCase | RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex ForwardMarker();

    [GeneratedRegex("<[^>]+>")]
    private static partial Regex Tags();
}
