namespace ConnectiveOne.Core.Dns;

/// <summary>The <c>tag=value; tag=value</c> syntax of DKIM (RFC 6376 §3.2) and DMARC (RFC 7489 §6.4) records.</summary>
public static class TagList
{
    /// <summary>
    /// Parses tags leniently: whitespace around names and values is ignored, names are case-insensitive,
    /// the first occurrence of a tag wins, and parts without <c>=</c> are skipped.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Parse(string text)
    {
        var tags = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in text.Split(';'))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0)
            {
                continue;
            }

            var name = part[..eq].Trim();
            if (name.Length > 0)
            {
                tags.TryAdd(name, part[(eq + 1)..].Trim());
            }
        }

        return tags;
    }
}
