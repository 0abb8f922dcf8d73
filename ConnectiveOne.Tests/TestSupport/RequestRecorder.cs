using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ConnectiveOne.Tests.TestSupport;

/// <summary>
/// A bare HTTP/1.1 listener on a free loopback port that answers every request with a 1×1 GIF and records what
/// reached it: every connection (also a TLS handshake, which it closes at once) and each HTTP request's path.
/// Plays the tracker a mail points at.
/// </summary>
public sealed class RequestRecorder : IAsyncDisposable
{
    private static readonly byte[] Gif = Convert.FromBase64String("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7");

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<string> _paths = [];
    private readonly Task _accepting;
    private int _connections;

    public RequestRecorder()
    {
        _listener.Start();
        Host = $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _accepting = AcceptAsync();
    }

    /// <summary><c>127.0.0.1:port</c>.</summary>
    public string Host { get; }

    public int Connections => Volatile.Read(ref _connections);

    /// <summary>The paths requested so far, in order of arrival.</summary>
    public IReadOnlyList<string> Paths
    {
        get
        {
            lock (_paths)
                return [.. _paths];
        }
    }

    private async Task AcceptAsync()
    {
        var serving = new List<Task>();
        while (true)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            Interlocked.Increment(ref _connections);
            serving.Add(ServeAsync(client));
        }
        await Task.WhenAll(serving);
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            var stream = client.GetStream();
            var head = new StringBuilder();
            var buffer = new byte[4096];
            while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var read = await stream.ReadAsync(buffer, timeout.Token);
                if (read == 0 || (head.Length == 0 && !char.IsAsciiLetterUpper((char)buffer[0])))
                    return; // closed, or not HTTP (a TLS ClientHello for an https:// form)
                head.Append(Encoding.Latin1.GetString(buffer, 0, read));
            }
            var requestLine = head.ToString()[..head.ToString().IndexOf("\r\n", StringComparison.Ordinal)].Split(' ');
            if (requestLine.Length == 3)
                lock (_paths)
                    _paths.Add(requestLine[1]);
            var response = Encoding.ASCII.GetBytes(
                $"HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\nContent-Length: {Gif.Length}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n");
            await stream.WriteAsync(response, timeout.Token);
            await stream.WriteAsync(Gif, timeout.Token);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException)
        {
            // The browser gave up on the connection, or the test is over.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
