using System.Text;
using System.Text.RegularExpressions;

namespace ConnectiveOne.Core.Threading;

/// <summary>The base subject and any <c>[#N]</c> ticket token found in a subject.</summary>
/// <param name="Base">The subject without reply/forward prefixes, list tags, <c>(fwd)</c> trailers and the ticket token; case kept, for display.</param>
/// <param name="TicketNumber">N from the first <c>[#N]</c> token, if any.</param>
public sealed record NormalizedSubject(string Base, long? TicketNumber)
{
    /// <summary>
    /// What to store and compare for "same subject": <see cref="Base"/> in lower case, its first 500 characters (it is
    /// indexed with the customer's address, and PostgreSQL refuses index entries over ~2.7 KB).
    /// </summary>
    public string MatchKey { get; } = Key(Base);

    private const int MaxKeyLength = 500;

    private static string Key(string subject)
    {
        var key = subject.ToLowerInvariant();
        return key.Length <= MaxKeyLength ? key : key[..(char.IsHighSurrogate(key[MaxKeyLength - 1]) ? MaxKeyLength - 1 : MaxKeyLength)];
    }
}

/// <summary>
/// RFC 5256 base-subject extraction (section 2.1), extended with localized reply/forward prefixes
/// and our <c>[#N]</c> ticket token. Expects a decoded subject (MimeKit's <c>MimeMessage.Subject</c>).
/// </summary>
public static partial class SubjectNormalizer
{
    /// <summary>
    /// Reply and forward prefixes recognised before a colon: English, German (AW, WG, Antw), Nordic
    /// (SV, VS, VB, VL, Vs), Dutch (Antw, Doorst), French (TR, Réf), Spanish/Portuguese (RV, RES, ENC), Polish (Odp, PD),
    /// Italian (R, I), Turkish (YNT, İLT), Finnish (VS, VL), Greek (ΑΠ, ΣΧΕΤ, ΠΡΘ).
    /// </summary>
    public static IReadOnlyList<string> DefaultPrefixes { get; } =
    [
        "re", "fwd", "fw", "aw", "wg", "sv", "vs", "vb", "vl", "antw", "doorst", "tr", "réf", "ref", "rv", "res", "enc",
        "odp", "pd", "r", "i", "ynt", "ilt", "İlt", "απ", "σχετ", "πρθ",
    ];

    /// <summary>Normalizes with the default prefixes, stripping leading <c>[list-tag]</c>s.</summary>
    public static NormalizedSubject Normalize(string? subject) => Normalize(subject, stripListTags: true, extraPrefixes: null);

    /// <param name="subject">The decoded subject; null and empty give an empty base.</param>
    /// <param name="stripListTags">Remove leading <c>[tag]</c> blobs when a non-empty subject follows (RFC 5256 subj-blob).</param>
    /// <param name="extraPrefixes">Additional reply prefixes (case-insensitive, without the colon).</param>
    public static NormalizedSubject Normalize(string? subject, bool stripListTags, IEnumerable<string>? extraPrefixes)
    {
        if (string.IsNullOrEmpty(subject))
            return new NormalizedSubject("", null);

        var s = subject.Replace('\uFF1A', ':'); // full-width colon used by CJK clients
        long? ticket = null;
        var token = TicketToken().Match(s);
        if (token.Success && long.TryParse(token.Groups[1].ValueSpan, out var n))
        {
            ticket = n;
            s = s.Remove(token.Index, token.Length);
        }
        s = CollapseWhitespace(s);

        var prefixes = extraPrefixes is null
            ? DefaultPrefixSet
            : new HashSet<string>(DefaultPrefixes.Concat(extraPrefixes.Select(p => p.Trim())), StringComparer.OrdinalIgnoreCase);

        // RFC 5256 2.1: repeat trailer removal, prefix removal and [fwd: …] unwrapping until nothing changes.
        while (true)
        {
            var before = s;
            s = StripTrailers(s);
            s = StripLeading(s, prefixes, stripListTags);
            s = UnwrapFwd(s);
            if (s == before)
                break;
        }
        return new NormalizedSubject(s, ticket);
    }

    private static readonly HashSet<string> DefaultPrefixSet = new(DefaultPrefixes, StringComparer.OrdinalIgnoreCase);

    private static string CollapseWhitespace(string s)
    {
        var sb = new StringBuilder(s.Length);
        var space = false;
        foreach (var c in s)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                space = true;
                continue;
            }
            if (space && sb.Length > 0)
                sb.Append(' ');
            space = false;
            sb.Append(c);
        }
        return sb.ToString();
    }

    private static string StripTrailers(string s)
    {
        while (true)
        {
            var t = s.TrimEnd();
            if (t.EndsWith("(fwd)", StringComparison.OrdinalIgnoreCase))
                s = t[..^5];
            else
                return t;
        }
    }

    private static string StripLeading(string s, HashSet<string> prefixes, bool stripListTags)
    {
        while (true)
        {
            s = s.TrimStart();
            var m = ReplyPrefix().Match(s);
            if (m.Success && prefixes.Contains(m.Groups["word"].Value))
            {
                s = s[m.Length..];
                continue;
            }
            if (stripListTags && s.StartsWith('['))
            {
                var close = s.IndexOf(']');
                // RFC 5256 blob chars exclude '[' so "[fwd: [x]]" is a wrapper, not a blob.
                if (close > 0 && s.IndexOf('[', 1, close - 1) < 0)
                {
                    var rest = s[(close + 1)..].Trim();
                    // A subject that is only a blob keeps it (RFC 5256: the blob is then the base subject).
                    if (rest.Length > 0 && !IsOnlyBlobs(rest))
                    {
                        s = rest;
                        continue;
                    }
                }
            }
            return s;
        }
    }

    private static bool IsOnlyBlobs(string s) => BlobsOnly().IsMatch(s);

    private static string UnwrapFwd(string s)
    {
        if (s.StartsWith("[fwd:", StringComparison.OrdinalIgnoreCase) && s.EndsWith(']'))
            return s[5..^1].Trim();
        return s;
    }

    // word, optional counter "[2]" / "(2)" or blob, then ":" — e.g. "Re:", "RE[2]:", "Re(3):", "Re [list]:", "Re :".
    [GeneratedRegex(@"^(?<word>[\p{L}]{1,12})\s*(?:\[\d+\]|\(\d+\)|\[[^\]]*\])?\s*:", RegexOptions.CultureInvariant)]
    private static partial Regex ReplyPrefix();

    [GeneratedRegex(@"\[#([0-9]{1,18})\]", RegexOptions.CultureInvariant)]
    private static partial Regex TicketToken();

    [GeneratedRegex(@"^(\[[^\]]*\]\s*)+$", RegexOptions.CultureInvariant)]
    private static partial Regex BlobsOnly();
}
