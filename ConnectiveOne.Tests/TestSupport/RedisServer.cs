using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ConnectiveOne.Tests.TestSupport;

/// <summary>
/// A real Redis for multi-node tests: <c>C1_TEST_REDIS</c> (a StackExchange.Redis configuration string) when set,
/// else a <c>redis-server</c> (Debian package, ./test.sh installs it) started on a free 127.0.0.1 port without
/// persistence, stopped on dispose.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly int _port;
    private Process? _process;

    private RedisServer(string configuration, int port)
    {
        Configuration = configuration;
        _port = port;
    }

    /// <summary>The value for <c>ConnectiveOne:Redis</c>.</summary>
    public string Configuration { get; }

    /// <summary><c>C1_TEST_REDIS</c> when set, else a redis-server of our own.</summary>
    public static async Task<RedisServer> StartAsync() =>
        Environment.GetEnvironmentVariable("C1_TEST_REDIS") is { Length: > 0 } given
            ? new RedisServer(given, 0)
            : await StartOwnAsync();

    /// <summary>A redis-server of our own, which <see cref="StopAsync"/> and <see cref="RestartAsync"/> can take away and bring back.</summary>
    public static async Task<RedisServer> StartOwnAsync()
    {
        var port = FreePort.Next();
        var server = new RedisServer($"127.0.0.1:{port}", port);
        await server.RestartAsync();
        return server;
    }

    /// <summary>Starts redis-server again on the same port (empty: it keeps nothing).</summary>
    public async Task RestartAsync()
    {
        var executable = new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException(
                "redis-server was not found: run ./test.sh (it installs Debian's redis-server) or set C1_TEST_REDIS to a running Redis.");
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--port", _port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" })
            start.ArgumentList.Add(argument);
        var process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        _process = process;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        for (var attempt = 0; !await PingAsync(_port); attempt++)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"redis-server exited with code {process.ExitCode} at start (port {_port}).");
            if (attempt > 100)
                throw new TimeoutException($"redis-server did not answer PING on port {_port}.");
            await Task.Delay(50);
        }
    }

    private static async Task<bool> PingAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Kills our redis-server, as when Redis goes away at runtime.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill();
            await p.WaitForExitAsync();
        }
        _process?.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
