using System.Text;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using ConnectiveOne.Core.Threading;
using MimeKit.Utils;

namespace ConnectiveOne.Core.Outbound.Forwarding;

/// <summary>One message as a forward quotes it.</summary>
public sealed record ForwardedMessage(string From, string? FromName, DateTimeOffset Date, string Subject, string To, string? Cc,
    string? Text, string? Html);

/// <summary>
/// Pure: the text of a forward. The operator's note on top, then each forwarded message in order under the header block
/// mail clients write ("---------- Forwarded message ----------", From, Date, Subject, To), as Gmail and FreeScout do:
/// the recipient reads the conversation inline, and any client folds it as a forward.
/// </summary>
public static class ForwardedText
{
    public const string Separator = "---------- Forwarded message ----------";

    /// <summary>The subject of a forward: <c>Fwd: &lt;subject&gt; [#N]</c>; the tag threads the recipient's answer back.</summary>
    public static string Subject(string ticketSubject, long ticketNumber)
    {
        var baseSubject = SubjectNormalizer.Normalize(ticketSubject, stripListTags: false, extraPrefixes: null).Base;
        return baseSubject.Length == 0 ? $"Fwd: [#{ticketNumber}]" : $"Fwd: {baseSubject} [#{ticketNumber}]";
    }

    public static string Compose(string? note, IReadOnlyList<ForwardedMessage> messages)
    {
        var text = new StringBuilder();
        if (!string.IsNullOrWhiteSpace(note))
            text.Append(note.TrimEnd()).Append("\n\n");
        foreach (var m in messages)
        {
            text.Append(Separator).Append('\n');
            text.Append("From: ").Append(string.IsNullOrWhiteSpace(m.FromName) ? m.From : $"{m.FromName.Trim()} <{m.From}>").Append('\n');
            text.Append("Date: ").Append(DateUtils.FormatDate(m.Date)).Append('\n');
            text.Append("Subject: ").Append(m.Subject).Append('\n');
            text.Append("To: ").Append(m.To).Append('\n');
            if (!string.IsNullOrWhiteSpace(m.Cc))
                text.Append("Cc: ").Append(m.Cc).Append('\n');
            text.Append('\n');
            var body = m.Text is { Length: > 0 } plain ? plain : m.Html is { Length: > 0 } html ? TextOf(html) : "";
            text.Append(body.ReplaceLineEndings("\n").TrimEnd()).Append("\n\n");
        }
        return text.ToString().TrimEnd() + "\n";
    }

    // Mail that came as HTML only: its words, one line per block, for the plain-text forward.
    private static readonly HashSet<string> Blocks = new(StringComparer.OrdinalIgnoreCase)
    {
        "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol", "hr",
    };

    /// <summary>The text of sanitized HTML, with a line break after each block element.</summary>
    public static string TextOf(string html)
    {
        var document = new HtmlParser().ParseDocument(html);
        var text = new StringBuilder();
        void Walk(INode node)
        {
            foreach (var child in node.ChildNodes)
            {
                if (child is IText t)
                    text.Append(t.Data.Replace('\n', ' '));
                else if (child is IElement e && !e.LocalName.Equals("style", StringComparison.OrdinalIgnoreCase))
                {
                    Walk(e);
                    if (Blocks.Contains(e.LocalName))
                        text.Append('\n');
                }
            }
        }
        if (document.Body is { } body)
            Walk(body);
        var lines = text.ToString().Split('\n').Select(l => l.Trim());
        // Runs of empty lines (nested blocks) become one.
        var result = new StringBuilder();
        var blank = false;
        foreach (var line in lines)
        {
            if (line.Length == 0)
            {
                if (!blank && result.Length > 0)
                    result.Append('\n');
                blank = true;
                continue;
            }
            result.Append(line).Append('\n');
            blank = false;
        }
        return result.ToString().TrimEnd();
    }
}
