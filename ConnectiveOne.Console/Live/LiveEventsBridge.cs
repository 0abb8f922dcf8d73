using System.Threading.Channels;
using ConnectiveOne.Core.Events;
using Microsoft.AspNetCore.SignalR;

namespace ConnectiveOne.Console.Live;

/// <summary>
/// Forwards every <see cref="ChangeNotifier"/> event except <see cref="ChangeKind.UserChanged"/>, one user's <see cref="ChangeKind.NotificationsChanged"/> and <see cref="ChangeKind.DraftChanged"/> to all hub clients
/// as <c>SendAsync(wireName, new { id })</c> (<c>messageAdded</c> adds <c>messageId</c>). The notifier's callback only queues, so publishers never wait on sockets.
/// With several nodes only events published on this node are forwarded: the SignalR Redis backplane takes them to
/// the hub clients of every node, so forwarding the other nodes' events too would deliver them twice.
/// </summary>
internal sealed class LiveEventsBridge(ChangeNotifier notifier, IHubContext<LiveHub> hub, ILogger<LiveEventsBridge> logger)
    : BackgroundService
{
    private readonly Channel<ChangeEvent> _queue = Channel.CreateUnbounded<ChangeEvent>(new UnboundedChannelOptions { SingleReader = true });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var subscription = notifier.Subscribe(change =>
        {
            // Who may do what is internal: user changes only make open sessions re-read their rights.
            if (change.Kind is not (ChangeKind.UserChanged or ChangeKind.NotificationsChanged or ChangeKind.DraftChanged) && !change.FromOtherNode)
                _queue.Writer.TryWrite(change);
        });

        await foreach (var change in _queue.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await hub.Clients.All.SendAsync(change.WireName, Payload(change), stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Sending {Event} for {Id} to live clients failed", change.WireName, change.Id);
            }
        }
    }

    // API.md: every event is {"id"}; messageAdded also names the message, as a string like the id beside it.
    private static object Payload(ChangeEvent change) => change.MessageId is { } messageId
        ? new { id = change.Id, messageId = messageId.ToString(System.Globalization.CultureInfo.InvariantCulture) }
        : new { id = change.Id };
}
