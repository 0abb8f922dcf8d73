using System.Text;

namespace ConnectiveOne.Core.Dns;

/// <summary>
/// TXT character-strings: one string holds at most 255 bytes (RFC 1035 §3.3), so longer values are
/// published as several strings that readers join. DNS panels and zone files write them quoted.
/// </summary>
public static class TxtStrings
{
    public const int MaxStringBytes = 255;

    /// <summary>Splits a value into strings of at most <paramref name="maxBytes"/> UTF-8 bytes, never inside a character.</summary>
    public static IReadOnlyList<string> Split(string value, int maxBytes = MaxStringBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 4);
        if (value.Length == 0)
        {
            return [""];
        }

        var parts = new List<string>();
        var current = new StringBuilder();
        var currentBytes = 0;
        foreach (var rune in value.EnumerateRunes())
        {
            var size = rune.Utf8SequenceLength;
            if (currentBytes + size > maxBytes)
            {
                parts.Add(current.ToString());
                current.Clear();
                currentBytes = 0;
            }

            current.Append(rune.ToString());
            currentBytes += size;
        }

        parts.Add(current.ToString());
        return parts;
    }

    /// <summary>The value as quoted strings, <c>"..." "..."</c>, as DNS panels and zone files take it.</summary>
    public static string ToQuoted(string value, int maxBytes = MaxStringBytes) =>
        string.Join(' ', Split(value, maxBytes).Select(Quote));

    /// <summary>One string in zone-file quoting: <c>"</c> and <c>\</c> escaped.</summary>
    public static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    /// <summary>
    /// Reads a value the way a person might have pasted it: <c>"abc" "def"</c> becomes <c>abcdef</c>.
    /// Text that is not entirely a sequence of quoted strings is returned trimmed, unchanged otherwise.
    /// </summary>
    public static string Unquote(string text)
    {
        var trimmed = text.Trim();
        if (trimmed.Length < 2 || trimmed[0] != '"')
        {
            return trimmed;
        }

        var result = new StringBuilder();
        var i = 0;
        while (i < trimmed.Length)
        {
            if (char.IsWhiteSpace(trimmed[i]))
            {
                i++;
                continue;
            }

            if (trimmed[i] != '"')
            {
                return trimmed; // not a quoted sequence after all: keep what was published
            }

            i++;
            var closed = false;
            while (i < trimmed.Length)
            {
                var c = trimmed[i];
                if (c == '\\' && i + 1 < trimmed.Length)
                {
                    result.Append(trimmed[i + 1]);
                    i += 2;
                    continue;
                }

                i++;
                if (c == '"')
                {
                    closed = true;
                    break;
                }

                result.Append(c);
            }

            if (!closed)
            {
                return trimmed;
            }
        }

        return result.ToString();
    }

    /// <summary>The record's strings joined, then unquoted if the publisher pasted quotes literally.</summary>
    public static string Normalize(TxtRecordData record) => Unquote(record.Joined);
}
