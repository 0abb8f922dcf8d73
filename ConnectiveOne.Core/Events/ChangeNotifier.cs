using Microsoft.Extensions.Logging;

namespace ConnectiveOne.Core.Events;

/// <summary>
/// Fan-out of change events to open pages and the live hub. Subscribers are called synchronously and must hand
/// work off quickly (Blazor components use InvokeAsync); one failing subscriber never stops the others or the
/// publisher. With several nodes, events published here also go to the other nodes (<see cref="Nodes.NodeBus"/>)
/// and theirs arrive through <see cref="DeliverFromOtherNode"/>, so every subscriber sees each event once.
/// </summary>
public sealed class ChangeNotifier(ILogger<ChangeNotifier> logger)
{
    private readonly Lock _lock = new();
    private Action<ChangeEvent>[] _subscribers = [];

    /// <summary>How many handlers are subscribed: pages that closed must have given theirs back.</summary>
    public int SubscriberCount => Volatile.Read(ref _subscribers).Length;

    public IDisposable Subscribe(Action<ChangeEvent> handler)
    {
        lock (_lock)
            _subscribers = [.. _subscribers, handler];
        return new Subscription(this, handler);
    }

    /// <summary>Events published on this node, for the node bus to pass on.</summary>
    internal event Action<ChangeEvent>? PublishedHere;

    private long _sequence;

    /// <summary>
    /// How many events were published or delivered here so far, counted before their subscribers hear them: a read
    /// made after hearing an event is at least that event's number, and anything that starts once the count reached
    /// it starts after that event's change was committed (shared reads use this to serve many pages with one query).
    /// </summary>
    public long Sequence => Interlocked.Read(ref _sequence);

    public void Publish(ChangeEvent change)
    {
        Interlocked.Increment(ref _sequence);
        Notify(change);
        try
        {
            PublishedHere?.Invoke(change);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Passing {Kind} {Id} to the other nodes failed", change.Kind, change.Id);
        }
    }

    /// <summary>An event another node published: local subscribers only, it is not passed on again.</summary>
    internal void DeliverFromOtherNode(ChangeEvent change)
    {
        Interlocked.Increment(ref _sequence);
        Notify(change with { FromOtherNode = true });
    }

    private void Notify(ChangeEvent change)
    {
        foreach (var subscriber in Volatile.Read(ref _subscribers))
        {
            try
            {
                subscriber(change);
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "A subscriber failed on {Kind} {Id}", change.Kind, change.Id);
            }
        }
    }

    private void Unsubscribe(Action<ChangeEvent> handler)
    {
        lock (_lock)
            _subscribers = _subscribers.Where(s => s != handler).ToArray();
    }

    private sealed class Subscription(ChangeNotifier owner, Action<ChangeEvent> handler) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
                owner.Unsubscribe(handler);
        }
    }
}
