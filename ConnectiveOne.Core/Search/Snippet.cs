using System.Net;
using System.Text;

namespace ConnectiveOne.Core.Search;

/// <summary>
/// The piece of a matching message shown under a search result: HTML-escaped text with <c>&lt;mark&gt;</c> around
/// each occurrence of a searched term. Only our own tags are unescaped, so a snippet is safe to render as HTML.
/// </summary>
public static class Snippet
{
    public const int Length = 200;
    private const int Before = 60;

    /// <summary>
    /// A window of the first field (body, then subject, sender, recipients, file names) that contains a term, around
    /// the first occurrence; the body's start when no field does (a match the index found that plain text search
    /// does not, which should not happen).
    /// </summary>
    public static string Build(SearchIndexRow document, IReadOnlyCollection<string> terms)
    {
        var fields = new[] { document.Body, document.Subject, document.Sender, document.Recipients, document.FileNames };
        foreach (var field in fields)
        {
            if (First(field, terms, 0) is { } hit)
                return Mark(field, Math.Max(0, hit.Start - Before), terms);
        }
        return Mark(document.Body, 0, terms);
    }

    private static string Mark(string text, int start, IReadOnlyCollection<string> terms)
    {
        // Start and end on a word boundary when one is near, so the snippet does not open mid-word.
        if (start > 0 && text.LastIndexOf(' ', start) is var space and >= 0 && start - space < 20)
            start = space + 1;
        var end = Math.Min(text.Length, start + Length);
        if (end < text.Length && text.IndexOf(' ', end) is var after and >= 0 && after - end < 20)
            end = after;
        var sb = new StringBuilder(start > 0 ? "…" : "");
        var at = start;
        while (at < end && First(text, terms, at) is { } hit && hit.Start < end)
        {
            sb.Append(WebUtility.HtmlEncode(text[at..hit.Start]));
            var stop = Math.Min(end, hit.Start + hit.Length);
            sb.Append("<mark>").Append(WebUtility.HtmlEncode(text[hit.Start..stop])).Append("</mark>");
            at = stop;
        }
        sb.Append(WebUtility.HtmlEncode(text[at..end]));
        if (end < text.Length)
            sb.Append('…');
        return sb.ToString();
    }

    // The earliest occurrence of any term at or after `from` (the longest term when several start there).
    private static (int Start, int Length)? First(string text, IReadOnlyCollection<string> terms, int from)
    {
        (int Start, int Length)? best = null;
        foreach (var term in terms)
        {
            if (term.Length == 0)
                continue;
            var i = text.IndexOf(term, from, StringComparison.OrdinalIgnoreCase);
            if (i >= 0 && (best is null || i < best.Value.Start || (i == best.Value.Start && term.Length > best.Value.Length)))
                best = (i, term.Length);
        }
        return best;
    }
}
