using System.Net;
using System.Text;

namespace ConnectiveOne.Core.Tickets;

/// <summary>
/// The one-line preview of a message in the inbox row: its new words (quoted history cut off), whitespace collapsed,
/// at most <see cref="MaxLength"/> characters. Computed once when the message is written (intake prepares it off the
/// writer's thread), never per row when the list is read.
/// </summary>
public static class MessagePreview
{
    public const int MaxLength = 200;

    // Only the start of a long body matters for one line; splitting quotes over all of a 5 MB body would not.
    private const int ScanLength = 4000;

    /// <summary>The preview of a body: its plain text when it has one, else its (sanitized) HTML's text; null when both are empty.</summary>
    public static string? Of(string? text, string? html)
    {
        var source = !string.IsNullOrWhiteSpace(text) ? Head(text) : html is { Length: > 0 } ? TextOfHtml(Head(html, ScanLength * 4)) : null;
        if (source is null)
            return null;
        var words = Collapse(QuotedText.SplitText(source).Reply);
        if (words.Length == 0)
            return null;
        return words.Length <= MaxLength ? words : words[..(MaxLength - 1)].TrimEnd() + "…";
    }

    private static string Head(string s, int length = ScanLength) => s.Length <= length ? s : s[..length];

    // Tags out, block ends as line breaks (so quote detection still sees lines), entities decoded. The HTML is
    // sanitized already (no scripts or styles left), so a plain scan is enough for a preview.
    private static string TextOfHtml(string html)
    {
        var sb = new StringBuilder(html.Length);
        var i = 0;
        while (i < html.Length)
        {
            var c = html[i];
            if (c != '<')
            {
                sb.Append(c);
                i++;
                continue;
            }
            var end = html.IndexOf('>', i);
            if (end < 0)
                break;
            var tag = html.AsSpan(i + 1, end - i - 1).TrimStart('/');
            if (tag.StartsWith("br", StringComparison.OrdinalIgnoreCase) || tag.StartsWith("p", StringComparison.OrdinalIgnoreCase)
                || tag.StartsWith("div", StringComparison.OrdinalIgnoreCase) || tag.StartsWith("li", StringComparison.OrdinalIgnoreCase)
                || tag.StartsWith("tr", StringComparison.OrdinalIgnoreCase) || tag.StartsWith("blockquote", StringComparison.OrdinalIgnoreCase))
                sb.Append('\n');
            i = end + 1;
        }
        return WebUtility.HtmlDecode(sb.ToString());
    }

    private static string Collapse(string s)
    {
        var sb = new StringBuilder(Math.Min(s.Length, MaxLength * 2));
        var space = false;
        foreach (var c in s)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                space = sb.Length > 0;
                continue;
            }
            if (space)
                sb.Append(' ');
            space = false;
            sb.Append(c);
            if (sb.Length > MaxLength)
                break;
        }
        return sb.ToString();
    }
}
