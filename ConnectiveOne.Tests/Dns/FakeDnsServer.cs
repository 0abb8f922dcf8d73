using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;

namespace ConnectiveOne.Tests.Dns;

/// <summary>
/// A real DNS server on 127.0.0.1 (UDP and TCP, one free port) answering from an in-memory zone that a test
/// can change between checks. Unknown names get NXDOMAIN.
/// </summary>
internal sealed class FakeDnsServer : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Entry> _zone = new(StringComparer.OrdinalIgnoreCase);
    private readonly CancellationTokenSource _stopping = new();
    private readonly DnsServer _server;
    private int _queries;
    private int _tcpQueries;
    private int _silentInFlight;
    private int _maxSilentInFlight;

    private FakeDnsServer(int port)
    {
        Port = port;
        var endpoint = new IPEndPoint(IPAddress.Loopback, port);
        _server = new DnsServer(new UdpServerTransport(endpoint, 2000), new TcpServerTransport(endpoint, 2000, 2000));
        _server.QueryReceived += OnQueryReceivedAsync;
    }

    public int Port { get; }

    /// <summary>The <c>ConnectiveOne:Dns:Servers</c> value pointing at this server.</summary>
    public string ServersSetting => $"127.0.0.1:{Port}";

    /// <summary>When true (a recursive resolver), a TXT query on a CNAME also gets the target's TXT records.</summary>
    public bool ChaseCnames { get; set; } = true;

    /// <summary>What happens to queries over TCP (the retry after a truncated UDP answer).</summary>
    public TcpFault Tcp { get; set; }

    /// <summary>Added before every answer, to stand for network latency (benchmarks).</summary>
    public TimeSpan ResponseDelay { get; set; }

    public int QueryCount => Volatile.Read(ref _queries);

    public int TcpQueryCount => Volatile.Read(ref _tcpQueries);

    /// <summary>The most queries to silent names that were waiting at the same time: proof of concurrent lookups.</summary>
    public int MaxSilentInFlight => Volatile.Read(ref _maxSilentInFlight);

    public static FakeDnsServer Start()
    {
        for (var attempt = 0; ; attempt++)
        {
            var server = new FakeDnsServer(FreePort());
            try
            {
                server._server.Start();
                return server;
            }
            catch (SocketException) when (attempt < 5)
            {
                // Someone took the port between probing and binding: try another.
            }
        }
    }

    /// <summary>Replaces the TXT records at a name; each record is its list of strings.</summary>
    public void SetTxt(string name, params string[][] records) => _zone[Key(name)] = new Entry(Txt: records);

    public void SetTxt(string name, string value) => SetTxt(name, [value]);

    public void SetCname(string name, string target) => _zone[Key(name)] = new Entry(Cname: Key(target));

    public void SetServFail(string name) => _zone[Key(name)] = new Entry(ServFail: true);

    /// <summary>Queries for the name are never answered, so the client times out.</summary>
    public void SetSilent(string name) => _zone[Key(name)] = new Entry(Silent: true);

    public void Remove(string name) => _zone.TryRemove(Key(name), out _);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            _server.Stop();
        }
        catch (AggregateException e) when (e.InnerExceptions.All(i => i is OperationCanceledException))
        {
            // ARSoft's Stop waits on its listener tasks and rethrows their cancellation when stopped right after Start.
        }

        _stopping.Dispose();
    }

    private async Task OnQueryReceivedAsync(object sender, QueryReceivedEventArgs e)
    {
        if (e.Query is not DnsMessage query || query.Questions.Count != 1)
        {
            return;
        }

        Interlocked.Increment(ref _queries);
        if (e.TransportProtocol == TransportProtocol.Tcp)
        {
            Interlocked.Increment(ref _tcpQueries);
            if (Tcp == TcpFault.Drop)
            {
                e.Response = null;
                return;
            }

            if (Tcp == TcpFault.Silent)
            {
                await SilenceAsync();
                e.Response = null;
                return;
            }
        }

        if (ResponseDelay > TimeSpan.Zero)
        {
            await Task.Delay(ResponseDelay, _stopping.Token);
        }

        var question = query.Questions[0];
        var response = query.CreateResponseInstance();
        var name = Key(question.Name.ToString());

        for (var hops = 0; hops < 10; hops++)
        {
            if (!_zone.TryGetValue(name, out var entry))
            {
                // Nothing at the first name: NXDOMAIN; at a CNAME target: the chain so far and NXDOMAIN.
                response.ReturnCode = ReturnCode.NxDomain;
                break;
            }

            if (entry.Silent)
            {
                await SilenceAsync();
                e.Response = null;
                return;
            }

            if (entry.ServFail)
            {
                response.ReturnCode = ReturnCode.ServerFailure;
                break;
            }

            response.ReturnCode = ReturnCode.NoError;
            if (entry.Cname is not null)
            {
                response.AnswerRecords.Add(new CNameRecord(DomainName.Parse(name), 60, DomainName.Parse(entry.Cname)));
                if (!ChaseCnames || question.RecordType == RecordType.CName)
                {
                    break;
                }

                name = entry.Cname;
                continue;
            }

            if (question.RecordType == RecordType.Txt)
            {
                foreach (var record in entry.Txt ?? [])
                {
                    response.AnswerRecords.Add(new TxtRecord(DomainName.Parse(name), 60, record));
                }
            }

            break;
        }

        e.Response = response;
    }

    private async Task SilenceAsync()
    {
        var inFlight = Interlocked.Increment(ref _silentInFlight);
        InterlockedMax(ref _maxSilentInFlight, inFlight);
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(30), _stopping.Token);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            Interlocked.Decrement(ref _silentInFlight);
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private static string Key(string name) => name.Trim().TrimEnd('.').ToLowerInvariant();

    private static int FreePort()
    {
        // Probe TCP and UDP together so both transports can bind the same port.
        for (var attempt = 0; ; attempt++)
        {
            var tcp = new TcpListener(IPAddress.Loopback, 0);
            tcp.Start();
            var port = ((IPEndPoint)tcp.LocalEndpoint).Port;
            try
            {
                using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException) when (attempt < 10)
            {
            }
            finally
            {
                tcp.Stop();
            }
        }
    }

    private sealed record Entry(string[][]? Txt = null, string? Cname = null, bool ServFail = false, bool Silent = false);
}

/// <summary>How <see cref="FakeDnsServer"/> treats queries over TCP.</summary>
internal enum TcpFault
{
    /// <summary>Answered like UDP ones, without the size limit.</summary>
    None,

    /// <summary>Never answered: the client times out.</summary>
    Silent,

    /// <summary>No answer at all: the server closes the connection.</summary>
    Drop,
}
