using System.Diagnostics;
using System.Threading.Channels;
using ConnectiveOne.Core.Events;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Core.Inbound.Intake;

/// <summary>
/// The one writer of inbound mail (group commit). Callers queue prepared messages; this service drains
/// whatever is waiting, threads and inserts it all in ONE transaction, commits (one fsync for the batch, with
/// <c>synchronous=FULL</c>), and only then completes each caller's task, so an SMTP session answers 250 only
/// once its own message is durable. Being the only writer also makes duplicate checks and threading exact: what
/// threading needs from the database is fetched once per batch (<see cref="BatchThreadPrefetch"/>), and what the
/// batch adds is seen through <see cref="IntakeBatch"/>. Rows are written with commands built from EF's model
/// (<see cref="IntakeRows"/>), not <c>SaveChanges</c>; attachment content goes into the same transaction, once per SHA-256.
/// A failing batch is retried message by message, so one bad message cannot fail the others.
/// </summary>
/// <remarks>This class is the queue and its loop; one batch's transaction is <see cref="IntakeBatchWriter"/>, and one
/// message's delivery to one address (forwarding status, ticket, rows) is <see cref="IntakeDeliveryWriter"/>.</remarks>
public sealed class IntakeWriter(IServiceScopeFactory scopes, ChangeNotifier notifier, TimeProvider clock,
    IOptions<ConnectiveOneOptions> options, ILogger<IntakeWriter> logger) : BackgroundService
{
    private const int MaxBatch = 256;

    private readonly Channel<PendingIntake> _queue = Channel.CreateBounded<PendingIntake>(new BoundedChannelOptions(4096)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    // Change events leave the writer through their own queue and loop: subscribers (open pages, the live hub) run
    // synchronously in ChangeNotifier, and a slow one must not hold up the next group commit. If they fall more
    // than this many batches behind, the oldest notifications are dropped (pages still show the data on reload).
    private readonly Channel<List<ChangeEvent>> _events = Channel.CreateBounded<List<ChangeEvent>>(new BoundedChannelOptions(1024)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.DropOldest,
    });

    private readonly IntakeBatchWriter _batches = new(scopes, clock, options.Value.Tickets.MaxMessagesPerTicket, logger);

    /// <summary>
    /// Queues a message for its addresses and completes once it is committed (or fails with the reason). Takes the
    /// message over: it is disposed (its spool files deleted) once the writer is done with it, or here if it was not queued.
    /// </summary>
    public async Task<IntakeResult> SubmitAsync(PreparedMessage message, IReadOnlyList<Guid> addressIds, CancellationToken cancellationToken)
    {
        var pending = new PendingIntake(message, addressIds, new TaskCompletionSource<IntakeResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        try
        {
            await _queue.Writer.WriteAsync(pending, cancellationToken);
        }
        catch
        {
            message.Dispose();
            throw;
        }
        return await pending.Done.Task.WaitAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var publishing = Task.Run(PublishLoopAsync, CancellationToken.None);
        var batch = new List<PendingIntake>(MaxBatch);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                batch.Clear();
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item))
                    batch.Add(item);
                await WriteBatchAsync(batch);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: nothing still queued was committed, so its senders must hear "try again later".
        }
        _queue.Writer.TryComplete();
        while (_queue.Reader.TryRead(out var left))
        {
            left.Message.Dispose();
            left.Done.TrySetException(new OperationCanceledException("The server is stopping."));
        }
        await _batches.DropContextAsync();
        _events.Writer.TryComplete();
        await publishing;
    }

    private async Task PublishLoopAsync()
    {
        await foreach (var events in _events.Reader.ReadAllAsync())
        {
            foreach (var change in events)
                notifier.Publish(change);
        }
    }

    private async Task WriteBatchAsync(List<PendingIntake> batch)
    {
        try
        {
            var (results, events) = await _batches.WriteAsync(batch);
            for (var i = 0; i < batch.Count; i++)
                Complete(batch[i], results[i]);
            Publish(events);
            return;
        }
        catch (Exception ex) when (batch.Count > 1)
        {
            logger.LogWarning(ex, "A batch of {Count} inbound messages failed; retrying them one by one", batch.Count);
        }
        catch (Exception ex)
        {
            Fail(batch[0], ex);
            return;
        }

        foreach (var item in batch)
        {
            try
            {
                var (results, events) = await _batches.WriteAsync([item]);
                Complete(item, results[0]);
                Publish(events);
            }
            catch (Exception ex)
            {
                Fail(item, ex);
            }
        }
    }

    // A message is disposed (its spool files deleted) once it has its answer, and before its sender hears it; not
    // before, since a failed batch is retried message by message, reading the files again.
    private static void Complete(PendingIntake item, IntakeResult result)
    {
        item.Message.Dispose();
        item.Done.TrySetResult(result);
    }

    private void Fail(PendingIntake item, Exception ex)
    {
        logger.LogError(ex, "Inbound message {DedupKey} could not be stored", item.Message.DedupKey);
        item.Message.Dispose();
        item.Done.TrySetException(ex);
    }

    private void Publish(List<ChangeEvent> events)
    {
        if (events.Count > 0)
            _events.Writer.TryWrite(events);
    }
}

/// <summary>A message waiting in the writer's queue for its addresses, and the task its sender awaits.</summary>
internal sealed record PendingIntake(PreparedMessage Message, IReadOnlyList<Guid> AddressIds, TaskCompletionSource<IntakeResult> Done)
{
    public long QueuedAt { get; } = Stopwatch.GetTimestamp();
}
