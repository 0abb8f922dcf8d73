using ConnectiveOne.Core.Tickets;

namespace ConnectiveOne.Console.State.Inbox;

/// <summary>
/// One ticket-list query for every circuit that shows the same view (filter and page). A circuit asking while a
/// query for its view runs joins the next one, which starts when the running one ends: it may have started before
/// the change the circuit heard of, the next one certainly did not. So a burst of events costs each view about two
/// queries in all, however many pages show it.
/// </summary>
public sealed class SharedTicketList(IServiceScopeFactory scopes)
{
    private sealed record View(TicketFilter Filter, int Page, int PageSize);

    private sealed class Slot
    {
        public TaskCompletionSource<TicketPage>? Next;
    }

    private readonly Lock _lock = new();
    private readonly Dictionary<View, Slot> _running = [];

    private long _queries, _requests;

    /// <summary>How many list queries ran, and how many loads asked for one (for the burst measurement).</summary>
    public (long Queries, long Requests) Counts => (Interlocked.Read(ref _queries), Interlocked.Read(ref _requests));

    /// <summary>Whether a query runs or waits to run.</summary>
    public bool Busy
    {
        get
        {
            lock (_lock)
                return _running.Count > 0;
        }
    }

    public Task<TicketPage> ListAsync(TicketFilter filter, int page, int pageSize)
    {
        var view = new View(filter, page, pageSize);
        Interlocked.Increment(ref _requests);
        lock (_lock)
        {
            if (_running.TryGetValue(view, out var slot))
                return (slot.Next ??= new TaskCompletionSource<TicketPage>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            _running[view] = new Slot();
        }
        var first = new TaskCompletionSource<TicketPage>(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = RunAsync(view, first);
        return first.Task;
    }

    /// <summary>Runs the query for <paramref name="current"/>, then for whoever joined meanwhile, until nobody did.</summary>
    private async Task RunAsync(View view, TaskCompletionSource<TicketPage> current)
    {
        while (true)
        {
            try
            {
                Interlocked.Increment(ref _queries);
                await using var scope = scopes.CreateAsyncScope();
                current.SetResult(await scope.ServiceProvider.GetRequiredService<TicketQueries>()
                    .ListAsync(view.Filter, view.Page, view.PageSize, CancellationToken.None));
            }
            catch (Exception ex)
            {
                current.SetException(ex); // each waiting circuit logs it and shows its error state
            }
            lock (_lock)
            {
                var slot = _running[view];
                if (slot.Next is null)
                {
                    _running.Remove(view);
                    return;
                }
                (current, slot.Next) = (slot.Next, null);
            }
        }
    }
}
