using System.Net;
using System.Text;
using ConnectiveOne.Core.Tickets;

namespace ConnectiveOne.Core.Search;

/// <summary>
/// What the index holds for one message: subject, body text (the text part, else the sanitized HTML's text), sender,
/// recipients (To and Cc) and attachment file names. Built the same way at intake, for replies and notes, and by
/// <c>reindex</c>, so a rebuilt index finds exactly what fresh intake would.
/// </summary>
public sealed record SearchDocument(long MessageId, string Subject, string Body, string Sender, string Recipients, string FileNames)
{
    /// <summary>
    /// Body characters indexed per message: enough for any written mail; a pasted 20 MB log would otherwise cost its
    /// whole length in index size and write time on the single intake writer.
    /// </summary>
    public const int MaxBodyLength = 64 * 1024;

    public static SearchDocument For(TicketMessage message, string? body = null) => new(
        message.Id,
        Clean(message.Subject),
        body ?? BodyOf(message.Text, message.Html),
        Clean($"{message.FromName} {message.FromAddress}"),
        Clean($"{message.To} {message.Cc}"),
        Clean(string.Join(' ', message.Attachments.Select(a => a.FileName))));

    /// <summary>The text that is indexed for a body: the text part when there is one, else the HTML's visible text.</summary>
    public static string BodyOf(string? text, string? html) =>
        text is not null ? Clean(text.Length > MaxBodyLength ? text[..MaxBodyLength] : text) : html is null ? "" : HtmlText(html);

    /// <summary>
    /// All the text in one line (for PostgreSQL's word vector and substring index, and for snippets).
    /// </summary>
    public string AllText => $"{Subject} {Body} {Sender} {Recipients} {FileNames}";

    // Tags out, entities decoded, white space collapsed. The HTML is our own sanitized output (no scripts or styles),
    // so a scan for '<' … '>' is enough, and much cheaper than parsing it again on the intake path.
    private static string HtmlText(string html)
    {
        var sb = new StringBuilder(Math.Min(html.Length, MaxBodyLength));
        var inTag = false;
        foreach (var c in html)
        {
            if (inTag)
            {
                inTag = c != '>';
                continue;
            }
            if (c == '<')
            {
                inTag = true;
                sb.Append(' ');
                continue;
            }
            sb.Append(c);
            if (sb.Length >= MaxBodyLength * 2)
                break;
        }
        var text = Clean(WebUtility.HtmlDecode(sb.ToString()));
        return text.Length > MaxBodyLength ? text[..MaxBodyLength] : text;
    }

    /// <summary>
    /// White space runs become one space and control characters go (U+0000 is refused by PostgreSQL, and the snippet
    /// marks use none), so every provider stores the same text.
    /// </summary>
    public static string Clean(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return "";
        var sb = new StringBuilder(text.Length);
        var space = false;
        foreach (var c in text)
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
        }
        return sb.ToString();
    }
}
