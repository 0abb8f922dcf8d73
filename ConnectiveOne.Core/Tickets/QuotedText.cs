using System.Text.RegularExpressions;
using AngleSharp.Html.Parser;

namespace ConnectiveOne.Core.Tickets;

/// <summary>A message body split into what the sender wrote now and the quoted history below it.</summary>
public sealed record QuoteSplit(string Reply, string? Quoted);

/// <summary>
/// Finds where quoted history starts in a reply, so the thread shows each message's new words and folds the
/// rest (which is the previous message again). Recognises the attribution lines and quote containers of the
/// common clients: Gmail, Outlook, Apple Mail, Thunderbird, Yahoo, iPhone and Android.
/// </summary>
public static partial class QuotedText
{
    // Containers that hold the quoted original in HTML replies.
    private const string HtmlQuoteSelectors =
        "div.gmail_quote, blockquote.gmail_quote, blockquote[type=cite], div.moz-cite-prefix, div#divRplyFwdMsg, " +
        "div#appendonsend, div.yahoo_quoted, div#mail-editor-reference-message-container, div.OutlookMessageHeader";

    /// <summary>Splits a plain-text body at the first attribution line or trailing block of "&gt;" lines.</summary>
    public static QuoteSplit SplitText(string text)
    {
        var lines = text.Replace("\r\n", "\n").Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            var attribution = Attribution().IsMatch(line)
                              || (i + 1 < lines.Length && AttributionStart().IsMatch(line) && lines[i + 1].TrimEnd().EndsWith("wrote:"));
            if (attribution || OriginalMessage().IsMatch(line) || (line.StartsWith('>') && RestIsQuoted(lines, i)))
            {
                var reply = string.Join('\n', lines[..i]).TrimEnd();
                if (reply.Length == 0)
                    return new QuoteSplit(text, null); // all of it is quoted: show it as it is
                return new QuoteSplit(reply, string.Join('\n', lines[i..]));
            }
        }
        return new QuoteSplit(text, null);
    }

    /// <summary>Splits sanitized HTML at the first known quote container; the two halves stay well-formed.</summary>
    public static QuoteSplit SplitHtml(string html)
    {
        var document = new HtmlParser().ParseDocument(html);
        var quote = document.QuerySelector(HtmlQuoteSelectors);
        if (quote?.ParentElement is null)
            return new QuoteSplit(html, null);
        // Outlook puts a separator line just before its header block: take it along.
        var start = quote.PreviousElementSibling is { LocalName: "hr" } rule ? rule : quote;
        var quoted = new List<string>();
        for (var node = (AngleSharp.Dom.INode?)start; node is not null;)
        {
            var next = node.NextSibling;
            quoted.Add(node is AngleSharp.Dom.IElement e ? e.OuterHtml : node.TextContent);
            node.Parent?.RemoveChild(node);
            node = next;
        }
        var reply = document.Body?.InnerHtml ?? "";
        return string.IsNullOrWhiteSpace(document.Body?.TextContent) && !reply.Contains("<img", StringComparison.OrdinalIgnoreCase)
            ? new QuoteSplit(html, null)
            : new QuoteSplit(reply, string.Concat(quoted));
    }

    private static bool RestIsQuoted(string[] lines, int from) =>
        lines[from..].All(l => l.TrimStart().StartsWith('>') || string.IsNullOrWhiteSpace(l));

    [GeneratedRegex(@"^(On|Am|Le|El|Il|Op|Em|Den|Dne)\s.{4,200}(wrote|schrieb|a écrit|escribió|ha scritto|schreef|escreveu|skrev|napsal)(\s.{0,160})?\s?:$",
        RegexOptions.IgnoreCase)]
    private static partial Regex Attribution();

    [GeneratedRegex(@"^(On|Am|Le|El)\s.{4,200}$", RegexOptions.IgnoreCase)]
    private static partial Regex AttributionStart();

    [GeneratedRegex(@"^(-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|Forwarded message)\s*-{2,}|_{10,}|From:\s.+@.+)$",
        RegexOptions.IgnoreCase)]
    private static partial Regex OriginalMessage();
}
