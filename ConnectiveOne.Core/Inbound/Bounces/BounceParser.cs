using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using ConnectiveOne.Core.Threading;
using MimeKit;

namespace ConnectiveOne.Core.Inbound.Bounces;

/// <summary>
/// Reads a bounce: which message it returns, for which recipients, with which status and diagnostic. RFC 3464
/// (<c>multipart/report; report-type=delivery-status</c>) is read field by field; the common non-standard bounces
/// (qmail, Exim, Postfix and Sendmail text, Exchange and Office 365 notices, Gmail, Yahoo…) are read from their text,
/// whose shape is "intro, the failed address, what the remote server said, a copy of the message". Pure; run only on
/// mail the classifier already calls a bounce.
/// </summary>
public static partial class BounceParser
{
    private const int MaxDiagnostic = 500;

    /// <summary>The report, or null when the message names neither a returned message nor a failed recipient.</summary>
    public static BounceReport? Parse(MimeMessage message)
    {
        var found = new Found();
        Walk(message.Body, found);

        var ids = new List<string>();
        void AddId(string? id)
        {
            if (string.IsNullOrWhiteSpace(id))
                return;
            var normalized = MessageIds.Normalize(id);
            if (normalized.Length > 0 && normalized.Contains('@') && !ids.Contains(normalized, StringComparer.Ordinal)
                && !string.Equals(normalized, Normalized(message.MessageId), StringComparison.Ordinal))
                ids.Add(normalized);
        }
        foreach (var id in found.AttachedIds)
            AddId(id);
        foreach (var name in (string[])["X-Original-Message-ID", "Original-Message-ID"])
            AddId(message.Headers[name]);
        foreach (var id in MessageIds.Parse(message.Headers.Where(h => h.Id is HeaderId.InReplyTo or HeaderId.References).Select(h => h.Value)))
            AddId(id);
        foreach (var text in found.Texts)
        {
            foreach (Match match in MessageIdLine().Matches(text))
                AddId(match.Groups["id"].Value);
        }

        // Returned messages the structure did not give up (message/partial, an attached message whose headers landed in
        // its body, a report whose parts MimeKit read differently): the Message-ID line is still in the report's text.
        if (ids.Count == 0 && message.Body is { } body)
        {
            using var buffer = new MemoryStream();
            body.WriteTo(buffer);
            foreach (Match match in MessageIdLine().Matches(Encoding.Latin1.GetString(buffer.GetBuffer(), 0, (int)buffer.Length)))
                AddId(match.Groups["id"].Value);
        }

        var report = FromDeliveryStatus(found.StatusGroups) ?? FromText(message, found);
        if (report is null && ids.Count == 0)
            return null;
        report ??= new BounceReport([], [], null, "The message could not be delivered (the notice gives no reason).", BounceAction.Failed);
        return report with { OriginalMessageIds = ids };
    }

    private sealed class Found
    {
        public List<string> AttachedIds { get; } = [];
        public List<Dictionary<string, string>> StatusGroups { get; } = [];
        public List<string> Texts { get; } = [];
        public List<MimeMessage> Returned { get; } = [];
    }

    // The report's own parts; an attached message is read for its headers only (its body is the customer's text).
    private static void Walk(MimeEntity? entity, Found found)
    {
        switch (entity)
        {
            case null:
                return;
            case Multipart multipart:
                // A boundary that never occurs (sisimai has several) leaves the whole report in the preamble.
                if (multipart.Count == 0 && !string.IsNullOrWhiteSpace(multipart.Preamble))
                    found.Texts.Add(multipart.Preamble);
                foreach (var child in multipart)
                    Walk(child, found);
                return;
            case MessagePart { Message: { } returned }:
                found.AttachedIds.Add(returned.MessageId ?? "");
                found.Returned.Add(returned);
                return;
            case MimePart part when part.ContentType.IsMimeType("message", "delivery-status") || part.ContentType.IsMimeType("message", "global-delivery-status"):
                found.StatusGroups.AddRange(StatusGroups(Decode(part)));
                return;
            case TextPart text when text.IsPlain || text.ContentType.IsMimeType("text", "rfc822-headers"):
                found.Texts.Add(text.Text ?? "");
                return;
            case TextPart html when html.IsHtml:
                found.Texts.Add(WebUtility.HtmlDecode(HtmlTag().Replace(HtmlBreak().Replace(html.Text ?? "", "\n"), "")));
                return;
        }
    }

    private static string Decode(MimePart part)
    {
        if (part.Content is null)
            return "";
        using var buffer = new MemoryStream();
        part.Content.DecodeTo(buffer);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>The field groups of a delivery-status body (per-message first, then one per recipient); names lower case.</summary>
    internal static List<Dictionary<string, string>> StatusGroups(string body)
    {
        var groups = new List<Dictionary<string, string>>();
        Dictionary<string, string>? group = null;
        string? last = null;
        foreach (var line in Lines(body))
        {
            if (line.Trim().Length == 0)
            {
                group = null;
                continue;
            }
            if (line[0] is ' ' or '\t' && group is not null && last is not null)
            {
                group[last] += " " + line.Trim();
                continue;
            }
            var colon = line.IndexOf(':');
            if (colon <= 0)
                continue;
            if (group is null)
                groups.Add(group = new Dictionary<string, string>(StringComparer.Ordinal));
            last = line[..colon].Trim().ToLowerInvariant();
            group.TryAdd(last, line[(colon + 1)..].Trim());
        }
        return groups;
    }

    private static BounceReport? FromDeliveryStatus(List<Dictionary<string, string>> groups)
    {
        var recipients = groups
            .Where(g => g.ContainsKey("final-recipient") || g.ContainsKey("original-recipient"))
            // A Final-Recipient that is no plain address (a source route, an LMTP mailbox) falls back to the Original-Recipient.
            .Select(g => (Address: Address(TypedValue(g.GetValueOrDefault("final-recipient") ?? ""))
                    ?? Address(TypedValue(g.GetValueOrDefault("original-recipient") ?? "")),
                Action: ActionOf(g.GetValueOrDefault("action"), StatusCode(g.GetValueOrDefault("status"))),
                Status: StatusCode(g.GetValueOrDefault("status")),
                Diagnostic: g.GetValueOrDefault("diagnostic-code") is { } code ? TypedValue(code) : null))
            .ToList();
        if (recipients.Count == 0)
            return null;
        var action = recipients.Min(r => r.Action);
        var concerned = recipients.Where(r => r.Action == action).ToList();
        var first = concerned[0];
        var addresses = concerned.Select(r => r.Address).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        return new BounceReport([], addresses, first.Status, Words(first.Status, first.Diagnostic, action), action);
    }

    private static BounceAction ActionOf(string? action, string? status) => (action?.Trim().ToLowerInvariant(), status?[0]) switch
    {
        ("failed", _) => BounceAction.Failed,
        ("delayed", _) => BounceAction.Delayed,
        ("delivered" or "relayed" or "expanded", _) => BounceAction.Delivered,
        (_, '4') => BounceAction.Delayed,
        (_, '2') => BounceAction.Delivered,
        _ => BounceAction.Failed,
    };

    // "rfc822; a@b" or "smtp; 550 ..." → the value after the type.
    private static string TypedValue(string value)
    {
        var semicolon = value.IndexOf(';');
        return (semicolon >= 0 && semicolon < 20 && !value[..semicolon].Contains(' ') ? value[(semicolon + 1)..] : value).Trim();
    }

    private static BounceReport? FromText(MimeMessage message, Found found)
    {
        var lines = found.Texts.SelectMany(t => BeforeCopy(Lines(t))).ToList();
        var report = string.Join('\n', lines);
        var status = StatusCode(report);

        var recipients = new List<string>();
        var at = -1;
        if (message.Headers["X-Failed-Recipients"] is { } failed)
            recipients.AddRange(failed.Split(',', ';', ' ').Select(Address).OfType<string>());
        for (var i = 0; i < lines.Count && at < 0; i++)
        {
            var match = RecipientLine().Match(lines[i]);
            if (!match.Success || Address(match.Groups["address"].Value) is not { } address)
                continue;
            at = i;
            if (!recipients.Contains(address))
                recipients.Insert(0, address);
        }
        if (recipients.Count == 0)
        {
            var excluded = message.From.Mailboxes.Concat(message.To.Mailboxes).Concat(found.Returned.SelectMany(r => r.From.Mailboxes))
                .Select(m => m.Address.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);
            for (var i = 0; i < lines.Count && recipients.Count == 0; i++)
            {
                foreach (Match match in AnyAddress().Matches(lines[i]))
                {
                    if (Address(match.Value) is { } address && !excluded.Contains(address))
                    {
                        recipients.Add(address);
                        at = i;
                        break;
                    }
                }
            }
        }
        if (recipients.Count == 0 && found.Returned.FirstOrDefault()?.To.Mailboxes.ToList() is [var only])
            recipients.Add(only.Address.ToLowerInvariant());
        if (recipients.Count == 0 && status is null)
            return null;

        var action = status?[0] == '4' || Delayed().IsMatch(report) && status?[0] != '5' ? BounceAction.Delayed : BounceAction.Failed;
        return new BounceReport([], recipients, status, Words(status, RemoteText(lines, at, recipients), action), action);
    }

    // What the notice says about the recipient: its paragraph, or the next ones until one quotes the server.
    private static string? RemoteText(List<string> lines, int at, List<string> recipients)
    {
        if (at < 0)
            return lines.FirstOrDefault(l => SmtpReply().IsMatch(l))?.Trim();
        var text = new StringBuilder();
        var paragraphs = 0;
        for (var i = at; i < lines.Count && paragraphs < 4; i++)
        {
            if (lines[i].Trim().Length == 0)
            {
                if (Meaningful(text, recipients) && (SmtpReply().IsMatch(text.ToString()) || paragraphs > 0))
                    break;
                paragraphs++;
                continue;
            }
            text.Append(' ').Append(lines[i].Trim());
        }
        return Meaningful(text, recipients) ? WithoutLeadingRecipient(text.ToString(), recipients) : null;
    }

    // The recipient is shown beside the diagnostic already: "<a@b>: said …" reads "said …".
    private static string WithoutLeadingRecipient(string text, List<string> recipients)
    {
        var trimmed = text.TrimStart();
        foreach (var r in recipients)
        {
            var match = LeadingRecipient().Match(trimmed);
            if (match.Success && string.Equals(Address(match.Groups["address"].Value), r, StringComparison.Ordinal))
                return trimmed[match.Length..].TrimStart();
        }
        return trimmed;
    }

    private static bool Meaningful(StringBuilder text, List<string> recipients)
    {
        var rest = text.ToString();
        foreach (var r in recipients)
            rest = rest.Replace(r, "", StringComparison.OrdinalIgnoreCase);
        return rest.Count(char.IsLetter) >= 8;
    }

    /// <summary>The diagnostic for people: what the status code means in words, then what the remote server said.</summary>
    private static string Words(string? status, string? remote, BounceAction action)
    {
        var said = Clean(remote);
        // "5.0.0" says only "failed"; the server's own words often carry the precise code (e.g. 550 5.1.1).
        if (status is null || status.EndsWith(".0.0", StringComparison.Ordinal))
        {
            if (StatusCode(said) is { } precise && (status is null || precise[0] == status[0]))
                status = precise;
        }
        var meaning = status is null ? null : StatusCodeWords.Describe(status);
        var text = (meaning, said) switch
        {
            ({ } m, { Length: > 0 } s) => $"{m} ({status}): {s}",
            ({ } m, _) => $"{m} ({status}).",
            (null, { Length: > 0 } s) => s,
            _ => action == BounceAction.Delayed ? "Delivery is delayed; the sending server keeps trying." : "The message could not be delivered (the notice gives no reason).",
        };
        return text.Length <= MaxDiagnostic ? text : text[..(MaxDiagnostic - 1)] + "…";
    }

    private static string? Clean(string? text)
    {
        if (text is null)
            return null;
        var oneLine = Whitespace().Replace(new string(text.Select(c => char.IsControl(c) ? ' ' : c).ToArray()), " ").Trim();
        return oneLine.Length == 0 ? null : oneLine;
    }

    private static string? StatusCode(string? text) =>
        text is not null && StatusPattern().Match(text) is { Success: true } m ? m.Value : null;

    private static string? Address(string? value)
    {
        var trimmed = value?.Trim().Trim('<', '>', '"', '\'', '.', ',', ';', ':', '(', ')', '[', ']').ToLowerInvariant();
        return trimmed is { Length: > 3 and <= 320 } && trimmed.IndexOf('@') is > 0 and var at && at < trimmed.Length - 1
            && !trimmed.Any(char.IsWhiteSpace)
            ? trimmed : null;
    }

    private static string? Normalized(string? id) => string.IsNullOrWhiteSpace(id) ? null : MessageIds.Normalize(id);

    private static IEnumerable<string> BeforeCopy(IEnumerable<string> lines)
    {
        foreach (var line in lines)
        {
            if (CopyMarker().IsMatch(line))
                yield break;
            yield return line;
        }
    }

    private static IEnumerable<string> Lines(string text) => text.Split(["\r\n", "\n", "\r"], StringSplitOptions.None);

    [GeneratedRegex(@"^[ \t>]*(?:Message-ID|X-Message-ID)[ \t]*:[ \t]*<?(?<id>[^\s<>]+@[^\s<>]+?)>?[ \t]*\r?$", RegexOptions.IgnoreCase | RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex MessageIdLine();

    // "<a@b>:" (qmail, Yahoo, Postfix), "<a@b>... User unknown" (Sendmail), an address alone on its line (Exim, Gmail),
    // or "Final-Recipient:"/"Original-Recipient:" written into the text.
    [GeneratedRegex(@"^\s*(?:(?:final|original)-recipient:\s*(?:rfc822;)?\s*)?<?(?<address>[^\s<>""@:;,()]+@[^\s<>""@:;,()]+?)>?(?:\s*$|:|\.\.\.|\s+\(|\s+because\b)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex RecipientLine();

    [GeneratedRegex(@"^[*>\s]*""?<?(?<address>[^\s<>""]+@[^\s<>""]+?)>?""?(:|\.\.\.)?(\s+|$)", RegexOptions.CultureInvariant)]
    private static partial Regex LeadingRecipient();

    [GeneratedRegex(@"[A-Za-z0-9._%+=\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+", RegexOptions.CultureInvariant)]
    private static partial Regex AnyAddress();

    [GeneratedRegex(@"\b[245]\.\d{1,3}\.\d{1,3}\b", RegexOptions.CultureInvariant)]
    private static partial Regex StatusPattern();

    [GeneratedRegex(@"\b[45][0-9][0-9][ \-]", RegexOptions.CultureInvariant)]
    private static partial Regex SmtpReply();

    [GeneratedRegex(@"(has been delayed|delivery delayed|will (continue|keep) (trying|to try)|will be retried|not yet been delivered|temporar(il)?y (failure|problem|error))", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Delayed();

    // Where the copy of the returned message starts; text after it is the customer's, not the notice's.
    [GeneratedRegex(@"^\s*[-=*_ ]*\s*(below this line is a copy|this is a copy of|a copy of the (original )?message|original message|original message follows|undelivered message|unsent message|returned message|message headers? follows?|headers of (the|your) (original )?message|the original message headers|original message headers)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex CopyMarker();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"<(script|style)[^>]*>.*?</\1>|<[^>]+>", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex HtmlTag();

    [GeneratedRegex(@"<(br|/p|/div|/tr|/li|/h[1-6])\b[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex HtmlBreak();
}
