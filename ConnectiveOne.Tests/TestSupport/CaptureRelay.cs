using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using MimeKit;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace ConnectiveOne.Tests.TestSupport;

/// <summary>One message as the capture relay received it: envelope and exact bytes.</summary>
public sealed record CapturedMail(string EnvelopeFrom, IReadOnlyList<string> EnvelopeTo, byte[] Bytes)
{
    public MimeMessage Message { get; } = MimeMessage.Load(new MemoryStream(Bytes));
}

/// <summary>
/// A real SMTP server (SmtpServer 11) on a free 127.0.0.1 port standing in for the outbound relay. It keeps every
/// message it accepts; scripted answers (a 4xx or 5xx) make it refuse the next deliveries.
/// </summary>
public sealed class CaptureRelay : IAsyncDisposable
{
    private readonly ConcurrentQueue<(int Code, string Text)> _scripted = new();
    private readonly ConcurrentQueue<CapturedMail> _received = new();
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly SmtpServer.SmtpServer _server;
    private readonly Task _running;
    private (int Code, string Text)? _always;
    private int _refused;

    private CaptureRelay(int port)
    {
        Port = port;
        var options = new SmtpServerOptionsBuilder()
            .ServerName("relay.test")
            .Endpoint(e => e.Endpoint(new IPEndPoint(IPAddress.Loopback, port)))
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(new Store(this));
        _server = new SmtpServer.SmtpServer(options, services);
        _running = _server.StartAsync(_stop.Token);
    }

    public int Port { get; }

    public IReadOnlyList<CapturedMail> Received => [.. _received];

    /// <summary>How many deliveries were answered with a scripted failure.</summary>
    public int RefusedCount => Volatile.Read(ref _refused);

    /// <summary>Settings that make the app use this relay (plain SMTP, no credentials).</summary>
    public IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["ConnectiveOne:Outbound:Host"] = "127.0.0.1",
        ["ConnectiveOne:Outbound:Port"] = Port.ToString(),
        ["ConnectiveOne:Outbound:Security"] = "None",
    };

    public static async Task<CaptureRelay> StartAsync()
    {
        var relay = new CaptureRelay(FreePort());
        // The listener binds in the background; wait until it accepts so the first delivery does not race it.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, relay.Port);
                return relay;
            }
            catch (SocketException) when (attempt < 100)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>Answers the next deliveries with these replies (in order), then accepts again.</summary>
    public void RefuseNext(params (int Code, string Text)[] replies)
    {
        foreach (var reply in replies)
            _scripted.Enqueue(reply);
    }

    /// <summary>Answers every delivery with this reply.</summary>
    public void RefuseAll(int code, string text) => _always = (code, text);

    /// <summary>Ends <see cref="RefuseAll"/>: deliveries are accepted again.</summary>
    public void AcceptAll() => _always = null;

    /// <summary>
    /// How long the relay waits after the data before it answers 250. A message counts as received only once that
    /// wait is over (a sender that vanished during it never gets 250, and it is not kept).
    /// </summary>
    public TimeSpan AnswerDelay { get; set; }

    /// <summary>Raised just before the 250 is written, with the message kept.</summary>
    public event Action<CapturedMail>? Answering;

    /// <summary>Waits until <paramref name="count"/> messages have been accepted in total.</summary>
    public async Task<IReadOnlyList<CapturedMail>> WaitForAsync(int count = 1, int timeoutSeconds = 30)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        while (_received.Count < count)
        {
            try
            {
                await _arrived.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"The capture relay received {_received.Count} of {count} messages.");
            }
        }
        return Received;
    }

    public async ValueTask DisposeAsync()
    {
        _server.Shutdown();
        await _stop.CancelAsync();
        try
        {
            await _running;
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }

    private async Task<SmtpResponse> SaveAsync(IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken ct)
    {
        if (_always is { } always || _scripted.TryDequeue(out always))
        {
            Interlocked.Increment(ref _refused);
            return new SmtpResponse((SmtpReplyCode)always.Code, always.Text);
        }
        var bytes = buffer.ToArray();
        if (AnswerDelay > TimeSpan.Zero)
            await Task.Delay(AnswerDelay, ct);
        var to = transaction.To.Select(m => $"{m.User}@{m.Host}").ToList();
        var mail = new CapturedMail($"{transaction.From.User}@{transaction.From.Host}", to, bytes);
        _received.Enqueue(mail);
        _arrived.Release();
        Answering?.Invoke(mail);
        return SmtpResponse.Ok;
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private sealed class Store(CaptureRelay relay) : MessageStore
    {
        public override Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction,
            ReadOnlySequence<byte> buffer, CancellationToken cancellationToken) =>
            relay.SaveAsync(transaction, buffer, cancellationToken);
    }
}
