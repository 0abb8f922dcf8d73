namespace ConnectiveOne.Core.Inbound.Intake;

/// <summary>What a URL in a mail's HTML points to, as a browser reads it.</summary>
public enum MailUrlKind
{
    /// <summary>Nothing is left once the browser has stripped what it ignores.</summary>
    Empty,

    /// <summary>A <c>cid:</c> reference to a part of the same message; <see cref="MailUrl.Value"/> is the Content-ID.</summary>
    Cid,

    /// <summary>Another host over <c>http</c>/<c>https</c>, or protocol-relative (<c>//host</c>, <c>\\host</c>, <c>/\host</c>…).</summary>
    Remote,

    /// <summary>A <c>mailto:</c> address.</summary>
    Mailto,

    /// <summary>A path, query or fragment: the browser resolves it against the console's own address.</summary>
    Relative,

    /// <summary>Any other scheme (<c>javascript:</c>, <c>data:</c>, <c>file:</c>…).</summary>
    OtherScheme,
}

/// <summary>
/// A URL from a mail, classified on the form a browser actually uses, never on the raw string: the WHATWG URL
/// Standard strips leading and trailing C0 controls and spaces and every tab and newline before it parses, and for
/// http(s) reads <c>\</c> as <c>/</c> and skips any run of slashes before the host. So <c>\\host/x</c>, <c>/\host</c>,
/// <c>&amp;#1;//host</c> and <c>/&amp;#9;/host</c> fetch from another host just like <c>//host</c>, and
/// <c>h&amp;#9;ttp://host</c> like <c>http://host</c>. Any http(s) scheme counts as remote, even <c>http:host</c>,
/// which is relative only while the console happens to run on that same scheme. <see cref="Value"/> is the URL in the
/// normalised form (<c>//host/…</c> for protocol-relative ones), which a browser reads the same way again.
/// </summary>
public readonly record struct MailUrl(MailUrlKind Kind, string Value)
{
    public static MailUrl Parse(string raw)
    {
        var url = Preprocess(raw);
        if (url.Length == 0)
            return new MailUrl(MailUrlKind.Empty, "");
        var colon = SchemeLength(url);
        if (colon > 0)
        {
            var scheme = url[..colon].ToLowerInvariant();
            var rest = url[(colon + 1)..];
            return scheme switch
            {
                "cid" => new MailUrl(MailUrlKind.Cid, rest),
                "http" or "https" => new MailUrl(MailUrlKind.Remote, scheme + "://" + SpecialAfterSlashes(rest)),
                "mailto" => new MailUrl(MailUrlKind.Mailto, "mailto:" + rest),
                _ => new MailUrl(MailUrlKind.OtherScheme, url),
            };
        }
        // The console is served over http(s), a "special" scheme: there a relative URL opening with two slashes of
        // either kind names a host.
        if (url.Length >= 2 && IsSlash(url[0]) && IsSlash(url[1]))
            return new MailUrl(MailUrlKind.Remote, "//" + SpecialAfterSlashes(url));
        return new MailUrl(MailUrlKind.Relative, url);
    }

    private static bool IsSlash(char c) => c is '/' or '\\';

    /// <summary>The basic URL parser's first steps: trim C0 controls and spaces, drop ASCII tabs and newlines.</summary>
    private static string Preprocess(string raw)
    {
        int start = 0, end = raw.Length;
        while (start < end && raw[start] <= ' ')
            start++;
        while (end > start && raw[end - 1] <= ' ')
            end--;
        var span = raw.AsSpan(start, end - start);
        return span.IndexOfAny('\t', '\n', '\r') < 0
            ? span.ToString()
            : string.Concat(span.ToString().Split(['\t', '\n', '\r']));
    }

    /// <summary>The length of the scheme before its colon (ASCII letter, then letters, digits, <c>+ - .</c>), or 0.</summary>
    private static int SchemeLength(string url)
    {
        if (!char.IsAsciiLetter(url[0]))
            return 0;
        for (var i = 1; i < url.Length; i++)
        {
            var c = url[i];
            if (c == ':')
                return i;
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('+' or '-' or '.'))
                return 0;
        }
        return 0;
    }

    /// <summary>
    /// An http(s) URL after its scheme: the parser skips every leading <c>/</c> and <c>\</c> before the host and reads
    /// <c>\</c> as <c>/</c> up to the query or fragment.
    /// </summary>
    private static string SpecialAfterSlashes(string rest)
    {
        var trimmed = rest.TrimStart('/', '\\');
        var end = trimmed.IndexOfAny(['?', '#']);
        return end < 0 ? trimmed.Replace('\\', '/') : trimmed[..end].Replace('\\', '/') + trimmed[end..];
    }
}
