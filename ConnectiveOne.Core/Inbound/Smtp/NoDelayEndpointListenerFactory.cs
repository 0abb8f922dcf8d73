using System.IO.Pipelines;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using SmtpServer;
using SmtpServer.IO;
using SmtpServer.Net;

namespace ConnectiveOne.Core.Inbound.Smtp;

/// <summary>
/// SmtpServer's listener leaves Nagle on, which costs ~40 ms per message with pipelining clients (delayed
/// ACK meets a small reply). This one sets TCP_NODELAY on every accepted socket and caps the number of
/// sessions served at once: beyond the cap, connections wait in the listen backlog.
/// </summary>
internal sealed class NoDelayEndpointListenerFactory(int maxSessions) : IEndpointListenerFactory
{
    private readonly SemaphoreSlim _sessions = new(maxSessions, maxSessions);

    /// <summary>Where the first endpoint listens (port 0 resolved), once started.</summary>
    public System.Net.IPEndPoint? BoundEndpoint { get; private set; }

    public IEndpointListener CreateListener(IEndpointDefinition endpointDefinition)
    {
        var listener = new TcpListener(endpointDefinition.Endpoint);
        listener.Start();
        BoundEndpoint ??= (System.Net.IPEndPoint)listener.LocalEndpoint;
        return new Listener(listener, _sessions);
    }

    private sealed class Listener(TcpListener listener, SemaphoreSlim sessions) : IEndpointListener
    {
        public async Task<ISecurableDuplexPipe> GetPipeAsync(ISessionContext context, CancellationToken cancellationToken)
        {
            await sessions.WaitAsync(cancellationToken);
            try
            {
                var client = await listener.AcceptTcpClientAsync(cancellationToken);
                client.NoDelay = true;
                context.Properties[EndpointListener.LocalEndPointKey] = client.Client.LocalEndPoint!;
                context.Properties[EndpointListener.RemoteEndPointKey] = client.Client.RemoteEndPoint!;
                return new PlainPipe(client, sessions);
            }
            catch
            {
                sessions.Release();
                throw;
            }
        }

        public void Dispose() => listener.Stop();
    }

    /// <summary>A plain TCP pipe; STARTTLS is not offered (no certificate is configured), so it never upgrades.</summary>
    private sealed class PlainPipe : ISecurableDuplexPipe
    {
        private readonly TcpClient _client;
        private readonly SemaphoreSlim _sessions;
        private int _disposed;

        public PlainPipe(TcpClient client, SemaphoreSlim sessions)
        {
            _client = client;
            _sessions = sessions;
            var stream = client.GetStream();
            Input = PipeReader.Create(stream);
            Output = PipeWriter.Create(stream);
        }

        public PipeReader Input { get; }
        public PipeWriter Output { get; }
        public bool IsSecure => false;
        public SslProtocols SslProtocol => SslProtocols.None;

        public Task UpgradeAsync(X509Certificate certificate, SslProtocols protocols, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("TLS is not configured for inbound SMTP.");

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
                return;
            _client.Dispose();
            _sessions.Release();
        }
    }
}
