using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ConnectiveOne.Tests.Reliability;

/// <summary>One SMTP reply: its code and its lines (without the code).</summary>
internal sealed record SmtpReply(int Code, IReadOnlyList<string> Lines)
{
    public string Text => string.Join(" | ", Lines);

    public override string ToString() => $"{Code} {Text}";
}

/// <summary>
/// SMTP over a bare socket, for what MailKit refuses to send: exact bytes, bare LF, NUL, pipelined garbage.
/// Every read waits at most <see cref="Guard"/> so a hanging server fails the test instead of hanging it.
/// </summary>
internal sealed class RawSmtpClient : IDisposable
{
    /// <summary>Longest wait for one reply: a hang guard, not a speed assertion.</summary>
    public static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    private RawSmtpClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    /// <summary>Connects; the greeting (or refusal) is the first reply to read.</summary>
    /// <param name="endpoint">The listener.</param>
    /// <param name="from">A local address to connect from (any of 127.0.0.0/8 on loopback), to stand for another client.</param>
    public static async Task<RawSmtpClient> ConnectAsync(IPEndPoint endpoint, IPAddress? from = null)
    {
        var tcp = from is null ? new TcpClient() : new TcpClient(new IPEndPoint(from, 0));
        tcp.NoDelay = true;
        await tcp.ConnectAsync(endpoint.Address, endpoint.Port);
        return new RawSmtpClient(tcp);
    }

    /// <summary>Connects, reads the 220 greeting and says EHLO.</summary>
    public static async Task<RawSmtpClient> OpenAsync(IPEndPoint endpoint)
    {
        var client = await ConnectAsync(endpoint);
        var greeting = await client.ReadReplyAsync();
        Assert.Equal(220, greeting?.Code);
        Assert.Equal(250, (await client.CommandAsync("EHLO client.example.org"))?.Code);
        return client;
    }

    /// <summary>Sends bytes exactly as given (Latin-1, so "\0" and "\n" go out as they are).</summary>
    public async Task SendAsync(string raw)
    {
        await _stream.WriteAsync(Encoding.Latin1.GetBytes(raw));
        await _stream.FlushAsync();
    }

    /// <summary>Sends one command line with CRLF and reads its reply (null when the server closed).</summary>
    public async Task<SmtpReply?> CommandAsync(string line)
    {
        await SendAsync(line + "\r\n");
        return await ReadReplyAsync();
    }

    /// <summary>The next reply, multi-line ones joined; null when the server closed the connection.</summary>
    public async Task<SmtpReply?> ReadReplyAsync()
    {
        var lines = new List<string>();
        while (true)
        {
            var line = await ReadLineAsync();
            if (line is null)
                return lines.Count == 0 ? null : throw new InvalidDataException("Connection closed inside a reply.");
            if (line.Length < 3 || !int.TryParse(line.AsSpan(0, 3), out var code))
                throw new InvalidDataException($"Not an SMTP reply: {line}");
            lines.Add(line.Length > 4 ? line[4..] : "");
            if (line.Length == 3 || line[3] != '-')
                return new SmtpReply(code, lines);
        }
    }

    /// <summary>Every reply until the server closes the connection (or resets it).</summary>
    public async Task<List<SmtpReply>> ReadUntilClosedAsync()
    {
        var replies = new List<SmtpReply>();
        try
        {
            while (await ReadReplyAsync() is { } reply)
                replies.Add(reply);
        }
        catch (IOException)
        {
            // Reset by the server after it stopped reading: the session is over all the same.
        }
        return replies;
    }

    private async Task<string?> ReadLineAsync()
    {
        using var guard = new CancellationTokenSource(Guard);
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                var line = Encoding.Latin1.GetString(_buffer, _start, newline - _start).TrimEnd('\r');
                _start = newline + 1;
                return line;
            }
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            var read = await _stream.ReadAsync(_buffer.AsMemory(_end), guard.Token);
            if (read == 0)
                return null;
            _end += read;
        }
    }

    public void Dispose() => _tcp.Dispose();
}
