using System.Text.Json;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Tickets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ConnectiveOne.Core.Nodes;

/// <summary>
/// Carries change events and ticket presence between nodes over Redis pub/sub (<c>ConnectiveOne:Redis</c>): what
/// this node publishes goes to the others, theirs is handed to the local subscribers only, and this node's own
/// messages coming back are ignored, so each page sees every event once. Without Redis it only expires presence.
/// When Redis goes away the node keeps working alone (StackExchange.Redis reconnects and subscribes again).
/// </summary>
public sealed class NodeBus(IOptions<ConnectiveOneOptions> options, NodeIdentity node, ChangeNotifier notifier,
    TicketPresence presence, TimeProvider clock, ILogger<NodeBus> logger) : BackgroundService
{
    /// <summary>Prefix of every channel (the SignalR backplane uses the same).</summary>
    public const string ChannelPrefix = "connectiveone";

    /// <summary>How often this node repeats its pages' presence, well inside <see cref="TicketPresence.RemoteFor"/>.</summary>
    public static readonly TimeSpan RepeatPresenceEvery = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan SweepEvery = TimeSpan.FromSeconds(2);
    private static readonly RedisChannel EventsChannel = RedisChannel.Literal(ChannelPrefix + ":events");
    private static readonly RedisChannel PresenceChannel = RedisChannel.Literal(ChannelPrefix + ":presence");

    // MessageId is last and optional, so a node still running the previous version reads it as absent.
    private sealed record EventMessage(string Node, ChangeKind Kind, string Id, string? Summary, DateTimeOffset At, long? MessageId = null, string? ForUserId = null);

    private sealed record PresenceMessage(string Node, PresenceNote Note);

    private ConnectionMultiplexer? _redis;
    /// <summary>1 while Redis is known to be away, so an outage is logged once (not per connection and retry).</summary>
    private int _outage;

    /// <summary>Whether this node shares events with others (Redis configured), connected or not.</summary>
    public bool IsShared => !string.IsNullOrWhiteSpace(options.Value.Redis);

    /// <summary>Whether Redis is reachable right now.</summary>
    public bool IsConnected => _redis?.IsConnected == true;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (IsShared)
            await ConnectAsync();
        var lastRepeat = clock.GetUtcNow();
        using var timer = new PeriodicTimer(SweepEvery, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                presence.Expire();
                if (_redis is not null && clock.GetUtcNow() - lastRepeat >= RepeatPresenceEvery)
                {
                    lastRepeat = clock.GetUtcNow();
                    foreach (var note in presence.Here())
                        Send(PresenceChannel, new PresenceMessage(node.Instance, note));
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ConnectAsync()
    {
        var configuration = ConfigurationOptions.Parse(options.Value.Redis!);
        // Start and keep running while Redis is down; the multiplexer keeps trying in the background.
        configuration.AbortOnConnectFail = false;
        configuration.ClientName ??= node.Name;
        _redis = await ConnectionMultiplexer.ConnectAsync(configuration);
        _redis.ConnectionFailed += (_, e) => OutageBegins(e.Exception);
        _redis.ConnectionRestored += (_, _) =>
        {
            if (Interlocked.Exchange(ref _outage, 0) == 1)
                logger.LogInformation("Redis is back; live updates are shared with the other nodes again");
        };

        var subscriber = _redis.GetSubscriber();
        try
        {
            await subscriber.SubscribeAsync(EventsChannel, (_, value) => Receive<EventMessage>(value, m =>
                notifier.DeliverFromOtherNode(new ChangeEvent(m.Kind, m.Id, m.Summary) { At = m.At, MessageId = m.MessageId, ForUserId = m.ForUserId })));
            await subscriber.SubscribeAsync(PresenceChannel, (_, value) => Receive<PresenceMessage>(value, m =>
                presence.ApplyFromOtherNode(m.Note)));
        }
        catch (RedisException e)
        {
            logger.LogWarning(e, "Subscribing to Redis failed; it is retried when the connection comes back");
        }
        notifier.PublishedHere += change =>
            Send(EventsChannel, new EventMessage(node.Instance, change.Kind, change.Id, change.Summary, change.At, change.MessageId, change.ForUserId));
        presence.ChangedHere += note => Send(PresenceChannel, new PresenceMessage(node.Instance, note));
        logger.LogInformation("Node {Node} shares live events through Redis ({Connected})", node.Name,
            _redis.IsConnected ? "connected" : "not reachable yet; retrying");
    }

    private void Receive<T>(RedisValue value, Action<T> handle) where T : class
    {
        try
        {
            var message = JsonSerializer.Deserialize<T>((byte[])value!);
            // Redis sends our own messages back to us too: those reached the local subscribers already.
            if (message is EventMessage { Node: var from } && from == node.Instance
                || message is PresenceMessage { Node: var sender } && sender == node.Instance
                || message is null)
                return;
            handle(message);
        }
        catch (JsonException e)
        {
            logger.LogWarning(e, "A message on the Redis channel could not be read; ignored");
        }
    }

    private void Send<T>(RedisChannel channel, T message)
    {
        if (_redis is null)
            return;
        try
        {
            _redis.GetSubscriber().Publish(channel, JsonSerializer.SerializeToUtf8Bytes(message), CommandFlags.FireAndForget);
        }
        catch (RedisException e)
        {
            // The node keeps working; only the other nodes miss this.
            OutageBegins(e);
        }
    }

    private void OutageBegins(Exception? e)
    {
        if (Interlocked.Exchange(ref _outage, 1) == 0)
            logger.LogWarning("Redis is unreachable ({Reason}); this node works alone and live updates from other nodes pause",
                e?.Message);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_redis is null)
            return;
        try
        {
            await _redis.CloseAsync();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The client can fail while closing a connection that is reconnecting (seen: a NullReferenceException inside
            // StackExchange.Redis after Redis went away); the node stops all the same and Dispose releases the rest.
            logger.LogWarning(ex, "Closing the Redis connection failed; stopping anyway");
        }
    }

    public override void Dispose()
    {
        _redis?.Dispose();
        base.Dispose();
    }
}
