using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Tickets;

namespace ConnectiveOne.Console.State.Inbox;

/// <summary>
/// One ticket-list query for every circuit that shows the same view (filter and page). A load says how new its
/// answer must be (<see cref="ChangeNotifier.Sequence"/> when it heard its change); a query that started at or
/// after that point serves it, whether it is still running or just finished; otherwise the load joins the next
/// query, which starts when the running one ends. So all pages on one view hearing one event cost one query, and a
/// burst costs a view about one query per cluster of events, however many pages show it.
/// </summary>
public sealed class SharedTicketList(IServiceScopeFactory scopes, ChangeNotifier notifier)
{
    private const int MaxViews = 256;

    private sealed record View(TicketFilter Filter, int Page, int PageSize);

    private sealed class Slot
    {
        public long RunningFrom = -1;
        public Task<TicketPage>? Running;
        public TaskCompletionSource<TicketPage>? Next;
        public long DoneFrom = -1;
        public Task<TicketPage>? Done;
    }

    private readonly Lock _lock = new();
    private readonly Dictionary<View, Slot> _views = [];
    private long _queries, _requests;

    /// <summary>How many list queries ran, and how many loads asked for one (for the burst measurement).</summary>
    public (long Queries, long Requests) Counts => (Interlocked.Read(ref _queries), Interlocked.Read(ref _requests));

    /// <summary>Whether a query runs or waits to run.</summary>
    public bool Busy
    {
        get
        {
            lock (_lock)
                return _views.Values.Any(v => v.Running is not null);
        }
    }

    /// <summary>The page, from a query that started once the notifier had counted <paramref name="atLeast"/> events.</summary>
    public Task<TicketPage> ListAsync(TicketFilter filter, int page, int pageSize, long atLeast)
    {
        var view = new View(filter, page, pageSize);
        Interlocked.Increment(ref _requests);
        lock (_lock)
        {
            if (!_views.TryGetValue(view, out var slot))
            {
                if (_views.Count >= MaxViews)
                    foreach (var idle in _views.Where(v => v.Value.Running is null).Select(v => v.Key).ToList())
                        _views.Remove(idle);
                _views[view] = slot = new Slot();
            }
            if (slot.Done is not null && slot.DoneFrom >= atLeast)
                return slot.Done;
            if (slot.Running is not null)
                return slot.RunningFrom >= atLeast
                    ? slot.Running
                    : (slot.Next ??= new TaskCompletionSource<TicketPage>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            return Start(view, slot);
        }
    }

    /// <summary>Starts a query for the view (under the lock); when it ends, whoever joined meanwhile gets the next one.</summary>
    private Task<TicketPage> Start(View view, Slot slot)
    {
        slot.RunningFrom = notifier.Sequence;
        slot.Running = QueryAsync(view);
        _ = FinishAsync(view, slot, slot.Running);
        return slot.Running;
    }

    private async Task<TicketPage> QueryAsync(View view)
    {
        await Task.Yield(); // not under the caller's lock
        Interlocked.Increment(ref _queries);
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<TicketQueries>()
            .ListAsync(view.Filter, view.Page, view.PageSize, CancellationToken.None);
    }

    private async Task FinishAsync(View view, Slot slot, Task<TicketPage> running)
    {
        try
        {
            await running;
        }
        catch
        {
            // Each waiting load sees the failure on its own task, logs it and shows its error state.
        }
        lock (_lock)
        {
            (slot.Done, slot.DoneFrom) = running.IsCompletedSuccessfully ? (running, slot.RunningFrom) : (null, -1);
            (slot.Running, slot.RunningFrom) = (null, -1);
            if (slot.Next is { } next)
            {
                slot.Next = null;
                var following = Start(view, slot);
                _ = following.ContinueWith(t =>
                {
                    if (t.IsCompletedSuccessfully)
                        next.SetResult(t.Result);
                    else
                        next.SetException(t.Exception?.InnerExceptions ?? [new TaskCanceledException()]);
                }, TaskScheduler.Default);
            }
        }
    }
}
