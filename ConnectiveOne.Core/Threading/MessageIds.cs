namespace ConnectiveOne.Core.Threading;

/// <summary>
/// Tolerant parsing of Message-ID, In-Reply-To and References values. Ids are returned without
/// angle brackets, in header order, and are compared ordinally (RFC 5322 local parts are case-sensitive).
/// </summary>
public static class MessageIds
{
    /// <summary>
    /// Extracts ids from a header value: every <c>&lt;…&gt;</c> id, plus bare <c>local@domain</c> tokens
    /// outside brackets and comments (some clients omit the brackets). When nothing id-like is found,
    /// bare whitespace-separated tokens are returned so a non-standard id can still match verbatim.
    /// A blank line ends the value (it can only be the end of the header block). Never throws.
    /// </summary>
    public static IReadOnlyList<string> Parse(string? headerValue)
    {
        if (string.IsNullOrWhiteSpace(headerValue))
            return [];

        var value = CutAtBlankLine(headerValue);
        var ids = new List<string>();
        var bare = new List<string>();
        var outside = new System.Text.StringBuilder();
        var depth = 0; // comment nesting outside brackets

        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (depth > 0)
            {
                if (c == '(') depth++;
                else if (c == ')') depth--;
                continue;
            }
            if (c == '(') { FlushBare(outside, bare); depth = 1; continue; }
            if (c == '<')
            {
                var close = value.IndexOf('>', i + 1);
                if (close < 0)
                {
                    outside.Append(value, i + 1, value.Length - i - 1);
                    break;
                }
                FlushBare(outside, bare);
                var id = Normalize(value.Substring(i + 1, close - i - 1));
                if (id.Length > 0)
                    ids.Add(id);
                i = close;
                continue;
            }
            outside.Append(c);
        }
        FlushBare(outside, bare);

        var withAt = bare.Where(t => t.Contains('@')).ToList();
        if (withAt.Count > 0)
            ids.AddRange(withAt);
        else if (ids.Count == 0)
            ids.AddRange(bare);
        return ids.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>Parses several header values (e.g. repeated In-Reply-To headers) into one ordered, de-duplicated list.</summary>
    public static IReadOnlyList<string> Parse(IEnumerable<string?> headerValues) =>
        headerValues.SelectMany(Parse).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>
    /// The form to store and compare: no angle brackets, trimmed, and a quoted local part unquoted
    /// (<c>"abc"@x</c> and <c>abc@x</c> are the same id). Store ids in this form so lookups match.
    /// </summary>
    public static string Normalize(string id)
    {
        var s = id.Trim();
        if (s.Length >= 2 && s[0] == '<' && s[^1] == '>')
            s = s[1..^1].Trim();
        if (s.Length > 2 && s[0] == '"')
        {
            var endQuote = s.IndexOf("\"@", 1, StringComparison.Ordinal);
            if (endQuote > 0)
                s = s[1..endQuote] + s[(endQuote + 1)..];
        }
        return s;
    }

    private static string CutAtBlankLine(string value)
    {
        var unified = value.Replace("\r\n", "\n", StringComparison.Ordinal);
        var blank = unified.IndexOf("\n\n", StringComparison.Ordinal);
        return blank >= 0 ? unified[..blank] : unified;
    }

    private static void FlushBare(System.Text.StringBuilder outside, List<string> bare)
    {
        foreach (var token in outside.ToString().Split([' ', '\t', '\r', '\n', ','], StringSplitOptions.RemoveEmptyEntries))
        {
            var t = token.Trim('"', ';', '>');
            if (t.Length > 0)
                bare.Add(t);
        }
        outside.Clear();
    }
}
