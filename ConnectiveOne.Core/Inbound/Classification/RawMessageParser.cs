using MimeKit;

namespace ConnectiveOne.Core.Inbound;

/// <summary>
/// Parses stored raw bytes into a <see cref="MimeMessage"/>, tolerating two things that never arrive over
/// SMTP but do arrive by upload or webhook: a leading mbox <c>From </c> line, and old Mac CR-only line
/// endings (MimeKit only splits lines on LF). The raw bytes themselves are kept unchanged by the caller.
/// </summary>
public static class RawMessageParser
{
    public static MimeMessage Parse(ReadOnlyMemory<byte> raw, CancellationToken cancellationToken = default) =>
        Parse(raw, ParserOptions.Default, cancellationToken);

    /// <param name="raw">The message bytes.</param>
    /// <param name="options">Parser limits, e.g. <see cref="ParserOptions.MaxMimeDepth"/> for untrusted mail.</param>
    /// <param name="cancellationToken">Stops a parse that takes too long.</param>
    public static MimeMessage Parse(ReadOnlyMemory<byte> raw, ParserOptions options, CancellationToken cancellationToken)
    {
        var span = raw.Span;
        var start = 0;
        if (span.StartsWith("From "u8))
        {
            var eol = span.IndexOfAny((byte)'\n', (byte)'\r');
            start = eol < 0 ? span.Length : eol + 1;
            if (eol >= 0 && span[eol] == '\r' && start < span.Length && span[start] == '\n')
                start++;
        }

        var body = raw[start..];
        byte[] bytes = body.Span.Contains((byte)'\n') || !body.Span.Contains((byte)'\r')
            ? body.ToArray()
            : CrToCrLf(body.Span);
        using var stream = new MemoryStream(bytes, writable: false);
        return MimeMessage.Load(options, stream, cancellationToken);
    }

    private static byte[] CrToCrLf(ReadOnlySpan<byte> cr)
    {
        var result = new List<byte>(cr.Length + cr.Length / 20);
        foreach (var b in cr)
        {
            result.Add(b);
            if (b == '\r')
                result.Add((byte)'\n');
        }
        return [.. result];
    }
}
