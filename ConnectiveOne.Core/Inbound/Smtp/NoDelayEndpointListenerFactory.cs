using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Logging;
using SmtpServer;
using SmtpServer.IO;
using SmtpServer.Net;

namespace ConnectiveOne.Core.Inbound.Smtp;

/// <summary>
/// SmtpServer's listener leaves Nagle on, which costs ~40 ms per message with pipelining clients (delayed
/// ACK meets a small reply). This one sets TCP_NODELAY on every accepted socket, caps the sessions served at
/// once (in all and per client address: beyond either cap a connection gets 421 at once instead of waiting
/// unanswered), closes a session whose client sends nothing for the command timeout, in DATA as well, and keeps the
/// message data all sessions hold in memory within the <see cref="MessageBufferBudget"/>.
/// </summary>
internal sealed class NoDelayEndpointListenerFactory(SessionLimits limits, MessageBufferBudget buffers, long maxMessageBytes,
    TimeSpan idleTimeout, ILogger logger) : IEndpointListenerFactory
{
    /// <summary>What a session may hold unread without a reservation: any command line, and most messages.</summary>
    internal const long FreeAllowance = 256 * 1024;

    /// <summary>Where the first endpoint listens (port 0 resolved), once started.</summary>
    public IPEndPoint? BoundEndpoint { get; private set; }

    public IEndpointListener CreateListener(IEndpointDefinition endpointDefinition)
    {
        var listener = new TcpListener(endpointDefinition.Endpoint);
        listener.Start();
        BoundEndpoint ??= (IPEndPoint)listener.LocalEndpoint;
        return new Listener(listener, limits, OpenInput, logger);
    }

    private BudgetedPipeReader OpenInput(TcpClient client) =>
        new(new IdleTimeoutPipeReader(PipeReader.Create(client.GetStream()), idleTimeout), buffers, FreeAllowance, maxMessageBytes);

    private sealed class Listener(TcpListener listener, SessionLimits limits, Func<TcpClient, BudgetedPipeReader> openInput, ILogger logger)
        : IEndpointListener
    {
        public async Task<ISecurableDuplexPipe> GetPipeAsync(ISessionContext context, CancellationToken cancellationToken)
        {
            while (true)
            {
                var client = await listener.AcceptTcpClientAsync(cancellationToken);
                var remote = (IPEndPoint)client.Client.RemoteEndPoint!;
                if (limits.TryEnter(remote.Address) is { } refusal)
                {
                    logger.LogDebug("SMTP connection from {Remote} refused: {Reply}", remote.Address, refusal);
                    Refuse(client, refusal);
                    continue;
                }
                try
                {
                    client.NoDelay = true;
                    context.Properties[EndpointListener.LocalEndPointKey] = client.Client.LocalEndPoint!;
                    context.Properties[EndpointListener.RemoteEndPointKey] = remote;
                    return new PlainPipe(client, openInput(client), () => limits.Exit(remote.Address));
                }
                catch
                {
                    limits.Exit(remote.Address);
                    client.Dispose();
                    throw;
                }
            }
        }

        /// <summary>Answers in place of the greeting and closes; a fresh socket's send buffer is empty, so this does not block.</summary>
        private static void Refuse(TcpClient client, string reply)
        {
            try
            {
                client.Client.Send(Encoding.ASCII.GetBytes(reply + "\r\n"));
                client.Client.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException)
            {
                // The client is gone already.
            }
            finally
            {
                client.Dispose();
            }
        }

        public void Dispose() => listener.Stop();
    }

    /// <summary>A plain TCP pipe; STARTTLS is not offered (no certificate is configured), so it never upgrades.</summary>
    private sealed class PlainPipe : ISecurableDuplexPipe
    {
        private readonly TcpClient _client;
        private readonly BudgetedPipeReader _input;
        private readonly Action _release;
        private int _disposed;

        public PlainPipe(TcpClient client, BudgetedPipeReader input, Action release)
        {
            _client = client;
            _input = input;
            _release = release;
            Output = PipeWriter.Create(client.GetStream());
        }

        public PipeReader Input => _input;
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
            _input.Release();
            _release();
        }
    }
}
