using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ConnectiveOne.Tests.Reliability;

/// <summary>
/// One SMTP transaction by hand, so a test controls what client libraries will not send: the null sender
/// <c>MAIL FROM:&lt;&gt;</c> of bounces and auto-replies, and the message bytes exactly as given.
/// </summary>
public static class RawSmtp
{
    /// <summary>Sends <paramref name="message"/> and returns the server's answer to the end of DATA (e.g. "250 2.0.0 Stored").</summary>
    public static async Task<string> SendAsync(IPEndPoint server, string envelopeFrom, string recipient, byte[] message)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(server);
        await using var stream = client.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);

        await ExpectAsync(reader, "220");
        await CommandAsync(stream, reader, "EHLO responder.test", "250");
        await CommandAsync(stream, reader, $"MAIL FROM:<{envelopeFrom}>", "250");
        await CommandAsync(stream, reader, $"RCPT TO:<{recipient}>", "250");
        await CommandAsync(stream, reader, "DATA", "354");
        await stream.WriteAsync(DotStuffed(message));
        var answer = await ExpectAsync(reader, "");
        await WriteLineAsync(stream, "QUIT");
        return answer;
    }

    private static async Task CommandAsync(NetworkStream stream, StreamReader reader, string command, string expected)
    {
        await WriteLineAsync(stream, command);
        var answer = await ExpectAsync(reader, expected);
        if (!answer.StartsWith(expected, StringComparison.Ordinal))
            throw new InvalidOperationException($"{command} was answered {answer}");
    }

    private static Task WriteLineAsync(NetworkStream stream, string line) => stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n")).AsTask();

    /// <summary>Reads one (possibly multi-line) reply and returns its last line.</summary>
    private static async Task<string> ExpectAsync(StreamReader reader, string expected)
    {
        while (true)
        {
            var line = await reader.ReadLineAsync() ?? throw new IOException("The server closed the connection.");
            if (line.Length >= 4 && line[3] == '-')
                continue;
            if (expected.Length > 0 && !line.StartsWith(expected, StringComparison.Ordinal))
                throw new InvalidOperationException($"Expected {expected}, got {line}");
            return line;
        }
    }

    /// <summary>The DATA bytes: lines starting with '.' doubled, CRLF at the end, then the terminating dot.</summary>
    private static byte[] DotStuffed(byte[] message)
    {
        var output = new List<byte>(message.Length + 16);
        var lineStart = true;
        foreach (var b in message)
        {
            if (lineStart && b == '.')
                output.Add((byte)'.');
            output.Add(b);
            lineStart = b == '\n';
        }
        if (!lineStart)
            output.AddRange("\r\n"u8.ToArray());
        output.AddRange(".\r\n"u8.ToArray());
        return [.. output];
    }
}
