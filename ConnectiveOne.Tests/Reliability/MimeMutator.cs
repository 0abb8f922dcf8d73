using System.Text;

namespace ConnectiveOne.Tests.Reliability;

/// <summary>One hostile input: which kind of damage, from which base message, and the bytes.</summary>
public sealed record Mutation(int Index, string Kind, string Base, byte[] Bytes);

/// <summary>
/// Makes malformed MIME deterministically from a seed: damage to real corpus messages (truncation, byte flips,
/// broken charsets, base64, quoted-printable, Message-IDs, boundaries, huge headers) and synthetic attacks
/// (deep nesting, 100,000 empty parts). The same seed and bases give the same bytes on every machine.
/// </summary>
public sealed partial class MimeMutator(IReadOnlyList<(string Name, byte[] Bytes)> bases, int seed)
{
    /// <summary>Kinds that damage a corpus message.</summary>
    public static readonly string[] DamageKinds =
    [
        "truncate", "byte-flip", "line-ending-chaos", "bad-charset", "bad-encoded-word", "broken-base64", "broken-qp",
        "no-message-id", "double-message-id", "garbage-message-id", "long-header", "boundary-trick", "no-header-break",
        "nul-and-8bit", "splice",
    ];

    private static readonly byte[] Crlf = "\r\n"u8.ToArray();

    /// <summary>The damaged variants <c>0..count-1</c>, each from its own seed so any one can be rebuilt alone.</summary>
    public IEnumerable<Mutation> Damaged(int count)
    {
        for (var i = 0; i < count; i++)
            yield return Damage(i);
    }

    public Mutation Damage(int index)
    {
        var random = new Random(unchecked(seed * 7919 + index)); // plain arithmetic: HashCode is randomised per process
        var kind = DamageKinds[index % DamageKinds.Length];
        var (name, bytes) = bases[random.Next(bases.Count)];
        var mutated = kind switch
        {
            "truncate" => bytes[..random.Next(bytes.Length + 1)],
            "byte-flip" => FlipBytes(bytes, random),
            "line-ending-chaos" => LineEndingChaos(bytes, random),
            "bad-charset" => BadCharset(bytes, random),
            "bad-encoded-word" => InsertHeader(bytes, "Subject", BadEncodedWord(random)),
            "broken-base64" => BrokenBase64(bytes, random),
            "broken-qp" => BrokenQuotedPrintable(bytes, random),
            "no-message-id" => RemoveHeader(bytes, "Message-ID"),
            "double-message-id" => InsertHeader(InsertHeader(bytes, "Message-ID", $"<dup-{random.Next(50)}@fuzz.test>"), "Message-ID", $"<other-{random.Next()}@fuzz.test>"),
            "garbage-message-id" => InsertHeader(RemoveHeader(bytes, "Message-ID"), "Message-ID", GarbageMessageId(random)),
            "long-header" => InsertHeader(bytes, random.Next(3) switch { 0 => "Subject", 1 => "References", _ => "To" }, LongHeaderValue(random)),
            "boundary-trick" => BoundaryTrick(bytes, random),
            "no-header-break" => RemoveHeaderBreak(bytes),
            "nul-and-8bit" => NulAnd8Bit(bytes, random),
            "splice" => Splice(bytes, bases[random.Next(bases.Count)].Bytes, random),
            _ => throw new InvalidOperationException(kind),
        };
        return new Mutation(index, kind, name, mutated);
    }

    /// <summary>The synthetic attacks (made from scratch, costly to parse, so a few sizes each).</summary>
    public static IEnumerable<Mutation> Synthetic()
    {
        var i = 0;
        foreach (var depth in (int[])[100, 1_000, 5_000])
            yield return new Mutation(i++, "deep-nesting", $"depth {depth}", DeepNesting(depth, closed: true));
        yield return new Mutation(i++, "deep-nesting", "depth 1000, never closed", DeepNesting(1_000, closed: false));
        yield return new Mutation(i++, "deep-nesting", "message/rfc822 depth 1000", DeepRfc822(1_000));
        foreach (var parts in (int[])[1_000, 100_000])
            yield return new Mutation(i++, "empty-parts", $"{parts} empty parts", EmptyParts(parts));
        yield return new Mutation(i++, "many-headers", "20000 headers", ManyHeaders(20_000));
        yield return new Mutation(i++, "huge-header-line", "one 2 MB Subject line", HugeHeaderLine(2_000_000, folded: false));
        yield return new Mutation(i++, "huge-header-line", "one 2 MB folded References", HugeHeaderLine(2_000_000, folded: true));
        yield return new Mutation(i++, "long-boundary-nesting", "200 nested, 900-char boundaries", LongBoundaries(200, 900));
        yield return new Mutation(i++, "huge-html", "2 MB of unclosed nested tags", HugeHtml(200_000));
    }

    private static byte[] FlipBytes(byte[] bytes, Random random)
    {
        var copy = (byte[])bytes.Clone();
        if (copy.Length == 0)
            return copy;
        var flips = 1 + random.Next(32);
        for (var f = 0; f < flips; f++)
            copy[random.Next(copy.Length)] ^= (byte)(1 + random.Next(255));
        return copy;
    }

    private static byte[] LineEndingChaos(byte[] bytes, Random random)
    {
        var output = new List<byte>(bytes.Length + 64);
        foreach (var b in bytes)
        {
            if (b == '\n' && random.Next(4) == 0)
            {
                var choice = random.Next(4);
                if (choice == 0)
                    output.Add((byte)'\r'); // bare CR instead of LF
                else if (choice == 1)
                    output.AddRange("\r\r\n"u8.ToArray());
                else if (choice == 2)
                    output.AddRange("\n\n"u8.ToArray());
                // choice 3: the line break vanishes
                continue;
            }
            output.Add(b);
        }
        return [.. output];
    }

    private static readonly string[] Charsets =
    [
        "x-unknown-charset", "utf-7", "utf-32", "ucs-4", "iso-8859-99", "\"\"", "", "utf-8'en'", "%%%", "gb18030",
        "windows-1252;;;", "koi8-r\x00", "us-ascii\"", new string('c', 4000), "unicode-1-1-utf-7", "x-mac-japanese",
    ];

    private static byte[] BadCharset(byte[] bytes, Random random)
    {
        var text = Latin1(bytes);
        var charset = Charsets[random.Next(Charsets.Length)];
        var replaced = CharsetParameter().Replace(text, _ => "charset=" + charset, random.Next(1, 4));
        if (ReferenceEquals(replaced, text) || replaced == text)
            replaced = InsertHeaderText(text, "Content-Type", $"text/plain; charset={charset}");
        // And a body that is not what the charset says.
        return Bytes(replaced + (random.Next(2) == 0 ? "\r\n\xff\xfe\xc3\x28\xa0\xa1\xe2\x28\xa1\r\n" : ""));
    }

    private static string BadEncodedWord(Random random) => random.Next(6) switch
    {
        0 => "=?x-bogus?B?SGVsbG8=?=",
        1 => "=?utf-8?B?!!!not base64!!!?=",
        2 => "=?utf-8?Q?=ZZ=Q=?=",
        3 => "=?utf-8?X?abc?=",
        4 => string.Concat(Enumerable.Repeat("=?utf-8?B?w6k=?=", 5_000)),
        _ => "=?" + new string('u', 3000) + "?B?SGVsbG8=?=",
    };

    private static byte[] BrokenBase64(byte[] bytes, Random random)
    {
        var text = Latin1(bytes);
        if (!text.Contains("base64", StringComparison.OrdinalIgnoreCase))
        {
            // Make one: a base64 attachment whose body is broken.
            return Bytes(InsertHeaderText(RemoveHeaderText(text, "Content-Transfer-Encoding"), "Content-Transfer-Encoding", "base64")
                + "\r\n====!!!!@@@@\r\nSGVsbG8gd29ybGQ\r\n=");
        }
        var chars = text.ToCharArray();
        var start = text.IndexOf("base64", StringComparison.OrdinalIgnoreCase);
        var damage = 1 + random.Next(50);
        for (var d = 0; d < damage; d++)
        {
            var at = start + random.Next(chars.Length - start);
            chars[at] = Junk[random.Next(Junk.Length)];
        }
        var damaged = new string(chars);
        // Sometimes cut the encoded part mid-quantum too.
        return Bytes(random.Next(3) == 0 ? damaged[..(start + (damaged.Length - start) * 2 / 3)] + "QQ=" : damaged);
    }

    private const string Junk = "=!-_*\u0000\u0080 .";

    private static byte[] BrokenQuotedPrintable(byte[] bytes, Random random)
    {
        var text = InsertHeaderText(RemoveHeaderText(Latin1(bytes), "Content-Transfer-Encoding"), "Content-Transfer-Encoding", "quoted-printable");
        var breaks = (string[])["=", "=Z", "=ZZ", "=\r", "=0", "= \r\n", "=\xff\xff", "==========", "=3D=3", new string('=', 2000)];
        var headerEnd = HeaderEnd(text);
        var at = headerEnd + random.Next(Math.Max(1, text.Length - headerEnd));
        return Bytes(text[..at] + breaks[random.Next(breaks.Length)] + text[at..] + breaks[random.Next(breaks.Length)]);
    }

    private static string GarbageMessageId(Random random) => random.Next(7) switch
    {
        0 => "",
        1 => "<>",
        2 => "<<<@@@>>>",
        3 => "<" + new string('x', 5_000) + "@fuzz.test>",
        4 => "no-brackets-at-all",
        5 => "<a@b> <c@d> <e@f>",
        _ => "<\x01\x02\x7f@\x80\xff>",
    };

    private static string LongHeaderValue(Random random) => random.Next(3) switch
    {
        0 => new string('A', 100_000 + random.Next(400_000)),
        1 => string.Join("\r\n ", Enumerable.Range(0, 5_000).Select(n => $"<ref{n}@fuzz.test>")),
        _ => string.Join(", ", Enumerable.Range(0, 10_000).Select(n => $"user{n}@example.org")),
    };

    private static byte[] BoundaryTrick(byte[] bytes, Random random)
    {
        var text = Latin1(bytes);
        var match = BoundaryParameter().Match(text);
        if (!match.Success)
        {
            // Declare a multipart whose boundary never appears.
            return Bytes(InsertHeaderText(RemoveHeaderText(text, "Content-Type"), "Content-Type", "multipart/mixed; boundary=\"never-there\""));
        }
        var boundary = match.Groups[1].Value.Trim('"');
        return random.Next(7) switch
        {
            0 => Bytes(text.Replace("--" + boundary + "--", "")), // never closed
            1 => Bytes(text.Replace(match.Value, "boundary=\"\"")), // empty boundary
            2 => Bytes(text.Replace(match.Value, "boundary=\"" + boundary[..Math.Max(1, boundary.Length / 2)] + "\"")), // prefix of the real one
            3 => Bytes(text.Replace("--" + boundary, "--" + boundary + "--" + boundary)), // every delimiter doubled
            4 => Bytes(text.Replace(match.Value, "boundary=\"" + new string('b', 10_000) + "\"")),
            5 => Bytes(text.Replace(match.Value, "boundary=" + boundary + "; boundary=other; boundary=")), // doubled parameter
            _ => Bytes(text.Insert(HeaderEnd(text), string.Concat(Enumerable.Repeat("\r\n--" + boundary + "\r\n", 500)))), // many empty parts
        };
    }

    private static byte[] RemoveHeaderBreak(byte[] bytes)
    {
        var text = Latin1(bytes);
        var end = HeaderEnd(text);
        var blank = text.IndexOf("\r\n\r\n", StringComparison.Ordinal) is var crlf and >= 0 && crlf + 4 == end ? 4 : 2;
        return end >= blank ? Bytes(text[..(end - blank + (blank / 2))] + text[end..]) : bytes;
    }

    private static byte[] NulAnd8Bit(byte[] bytes, Random random)
    {
        var copy = new List<byte>(bytes);
        var count = 1 + random.Next(100);
        for (var n = 0; n < count && copy.Count > 0; n++)
            copy.Insert(random.Next(copy.Count), random.Next(2) == 0 ? (byte)0 : (byte)(0x80 + random.Next(128)));
        return [.. copy];
    }

    private static byte[] Splice(byte[] a, byte[] b, Random random)
    {
        var cutA = random.Next(a.Length + 1);
        var cutB = random.Next(b.Length + 1);
        return [.. a.AsSpan(0, cutA), .. b.AsSpan(cutB)];
    }

    private static byte[] DeepNesting(int depth, bool closed)
    {
        var sb = new StringBuilder("From: deep@fuzz.test\r\nTo: support@acme.test\r\nSubject: nested\r\nMessage-ID: <deep-")
            .Append(depth).Append(closed ? "" : "-open").Append("@fuzz.test>\r\nMIME-Version: 1.0\r\n");
        for (var d = 0; d < depth; d++)
            sb.Append("Content-Type: multipart/mixed; boundary=\"b").Append(d).Append("\"\r\n\r\n--b").Append(d).Append("\r\n");
        sb.Append("Content-Type: text/plain\r\n\r\nthe bottom\r\n");
        if (closed)
        {
            for (var d = depth - 1; d >= 0; d--)
                sb.Append("--b").Append(d).Append("--\r\n");
        }
        return Bytes(sb.ToString());
    }

    private static byte[] DeepRfc822(int depth)
    {
        var sb = new StringBuilder();
        for (var d = 0; d < depth; d++)
            sb.Append("From: layer").Append(d).Append("@fuzz.test\r\nSubject: layer ").Append(d).Append("\r\nContent-Type: message/rfc822\r\n\r\n");
        sb.Append("From: bottom@fuzz.test\r\nSubject: bottom\r\n\r\nthe bottom\r\n");
        return Bytes(sb.ToString());
    }

    private static byte[] EmptyParts(int parts)
    {
        var sb = new StringBuilder("From: empty@fuzz.test\r\nTo: support@acme.test\r\nSubject: empty parts\r\nMessage-ID: <empty-")
            .Append(parts).Append("@fuzz.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"e\"\r\n\r\n");
        for (var p = 0; p < parts; p++)
            sb.Append("--e\r\n\r\n");
        sb.Append("--e--\r\n");
        return Bytes(sb.ToString());
    }

    private static byte[] ManyHeaders(int count)
    {
        var sb = new StringBuilder("From: headers@fuzz.test\r\nSubject: many headers\r\n");
        for (var h = 0; h < count; h++)
            sb.Append("X-Fuzz-").Append(h).Append(": value ").Append(h).Append("\r\n");
        sb.Append("\r\nbody\r\n");
        return Bytes(sb.ToString());
    }

    private static byte[] HugeHeaderLine(int length, bool folded)
    {
        var value = folded
            ? string.Join("\r\n ", Enumerable.Range(0, length / 24).Select(n => $"<r{n:D8}@fuzz.test>"))
            : new string('S', length);
        return Bytes($"From: huge@fuzz.test\r\n{(folded ? "References" : "Subject")}: {value}\r\nIn-Reply-To: {(folded ? "<r00000001@fuzz.test>" : value[..1000])}\r\n\r\nbody\r\n");
    }

    private static byte[] LongBoundaries(int depth, int boundaryLength)
    {
        var sb = new StringBuilder("From: boundary@fuzz.test\r\nSubject: long boundaries\r\nMIME-Version: 1.0\r\n");
        string B(int d) => d.ToString("D4") + new string('x', boundaryLength);
        for (var d = 0; d < depth; d++)
            sb.Append("Content-Type: multipart/alternative; boundary=\"").Append(B(d)).Append("\"\r\n\r\n--").Append(B(d)).Append("\r\n");
        sb.Append("Content-Type: text/html\r\n\r\n<p>bottom</p>\r\n");
        return Bytes(sb.ToString());
    }

    private static byte[] HugeHtml(int tags)
    {
        var sb = new StringBuilder("From: html@fuzz.test\r\nSubject: deep html\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>");
        for (var t = 0; t < tags; t++)
            sb.Append(t % 3 == 0 ? "<div>" : t % 3 == 1 ? "<table><tr><td>" : "<b><i>");
        sb.Append("bottom <img src=\"http://tracker.example/p.gif\"><script>alert(1)</script>\r\n");
        return Bytes(sb.ToString());
    }

    private static byte[] InsertHeader(byte[] bytes, string name, string value) => Bytes(InsertHeaderText(Latin1(bytes), name, value));

    private static byte[] RemoveHeader(byte[] bytes, string name) => Bytes(RemoveHeaderText(Latin1(bytes), name));

    /// <summary>Puts a header first (before any mbox line's successor, so it stays in the top-level header).</summary>
    private static string InsertHeaderText(string text, string name, string value)
    {
        var at = text.StartsWith("From ", StringComparison.Ordinal) ? text.IndexOf('\n') + 1 : 0;
        return text.Insert(at, $"{name}: {value}\r\n");
    }

    private static string RemoveHeaderText(string text, string name)
    {
        var end = HeaderEnd(text);
        var header = text[..end];
        var lines = header.Split('\n');
        var kept = new List<string>(lines.Length);
        var skipping = false;
        foreach (var line in lines)
        {
            if (line.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))
            {
                skipping = true;
                continue;
            }
            if (skipping && line.Length > 0 && line[0] is ' ' or '\t')
                continue;
            skipping = false;
            kept.Add(line);
        }
        return string.Join('\n', kept) + text[end..];
    }

    /// <summary>Index just past the blank line that ends the top-level header, or the end of the text.</summary>
    private static int HeaderEnd(string text)
    {
        var crlf = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var lf = text.IndexOf("\n\n", StringComparison.Ordinal);
        if (crlf < 0 && lf < 0)
            return text.Length;
        if (crlf >= 0 && (lf < 0 || crlf < lf))
            return crlf + 4;
        return lf + 2;
    }

    // Latin-1 maps every byte to one char and back, so text edits keep all other bytes exactly.
    private static string Latin1(byte[] bytes) => Encoding.Latin1.GetString(bytes);

    private static byte[] Bytes(string text) => Encoding.Latin1.GetBytes(text);

    [System.Text.RegularExpressions.GeneratedRegex("charset=(\"[^\"]*\"|[^;\\s]*)", System.Text.RegularExpressions.RegexOptions.IgnoreCase)]
    private static partial System.Text.RegularExpressions.Regex CharsetParameter();

    [System.Text.RegularExpressions.GeneratedRegex("boundary=(\"[^\"]+\"|[^;\\s]+)", System.Text.RegularExpressions.RegexOptions.IgnoreCase)]
    private static partial System.Text.RegularExpressions.Regex BoundaryParameter();
}
