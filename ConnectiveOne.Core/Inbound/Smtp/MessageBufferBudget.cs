namespace ConnectiveOne.Core.Inbound.Smtp;

/// <summary>
/// The bytes of inbound message data all SMTP sessions together may hold in memory
/// (<c>ConnectiveOne:Smtp:MaxBufferedBytes</c>). SmtpServer keeps a whole message in memory until it is stored, so
/// without a common cap twelve concurrent 24 MB messages took the process to about 2 GB. A session whose message
/// outgrows its small free allowance reserves a whole message's worth here: beyond the cap it waits, first come first
/// served, without reading more from its socket, so the sender is slowed by TCP flow control rather than refused. A
/// reservation is always a full message, so a session that has one can finish and nobody waits on a half-reserved
/// neighbour.
/// </summary>
internal sealed class MessageBufferBudget(long capacity)
{
    private readonly LinkedList<(long Bytes, TaskCompletionSource Granted)> _waiting = new();
    private readonly long _capacity = capacity;
    private long _available = capacity;

    /// <summary>Bytes reserved right now (for logs and tests).</summary>
    public long InUse
    {
        get
        {
            lock (_waiting)
                return _capacity - _available;
        }
    }

    /// <summary>Completes once <paramref name="bytes"/> (at most the capacity) are reserved for the caller.</summary>
    public Task ReserveAsync(long bytes, CancellationToken cancellationToken)
    {
        bytes = Math.Min(bytes, _capacity);
        LinkedListNode<(long, TaskCompletionSource)> node;
        lock (_waiting)
        {
            if (_waiting.Count == 0 && _available >= bytes)
            {
                _available -= bytes;
                return Task.CompletedTask;
            }
            node = _waiting.AddLast((bytes, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)));
        }
        return WaitAsync(node, cancellationToken);
    }

    private async Task WaitAsync(LinkedListNode<(long Bytes, TaskCompletionSource Granted)> node, CancellationToken cancellationToken)
    {
        await using var cancel = cancellationToken.Register(() =>
        {
            lock (_waiting)
            {
                if (node.List is null)
                    return; // granted meanwhile: the caller owns the bytes and releases them
                _waiting.Remove(node);
                GrantWaiting();
            }
            node.Value.Granted.TrySetCanceled(cancellationToken);
        });
        await node.Value.Granted.Task;
    }

    /// <summary>Returns <paramref name="bytes"/> reserved earlier (the same amount <see cref="ReserveAsync"/> took).</summary>
    public void Release(long bytes)
    {
        bytes = Math.Min(bytes, _capacity);
        lock (_waiting)
        {
            _available += bytes;
            GrantWaiting();
        }
    }

    private void GrantWaiting()
    {
        while (_waiting.First is { } first && first.Value.Bytes <= _available)
        {
            _available -= first.Value.Bytes;
            _waiting.RemoveFirst();
            first.Value.Granted.TrySetResult();
        }
    }
}
