namespace ConnectiveOne.Console.State;

/// <summary>
/// How every effect loads: one load at a time, and what is asked for while one runs is merged into one request that
/// a single further round loads when the running one ends. A burst of events thus costs a load or two, not one per
/// event. A round that fails is handed to <c>failed</c> and the rounds go on with what is still asked for, so one
/// error never leaves a request waiting for the next event.
/// </summary>
/// <param name="merge">Folds a new request into the one waiting (e.g. a union of message ids); by default the newer wins.</param>
public sealed class CoalescedLoads<TRequest>(Func<TRequest, TRequest, TRequest>? merge = null)
{
    private readonly Func<TRequest, TRequest, TRequest> _merge = merge ?? ((_, newer) => newer);
    private readonly Lock _lock = new();
    private TRequest? _waiting;
    private bool _hasWaiting, _running;

    /// <summary>
    /// Asks for <paramref name="request"/>. When no load runs, this call runs the rounds and returns true once nothing is
    /// left to load; otherwise it leaves the request to the running rounds and returns false at once.
    /// </summary>
    public async Task<bool> RequestAsync(TRequest request, Func<TRequest, Task> load, Action<Exception, TRequest> failed)
    {
        lock (_lock)
        {
            _waiting = _hasWaiting ? _merge(_waiting!, request) : request;
            _hasWaiting = true;
            if (_running)
                return false;
            _running = true;
        }
        try
        {
            while (true)
            {
                TRequest next;
                lock (_lock)
                {
                    if (!_hasWaiting)
                    {
                        // Decided under the lock: a request that comes after this sees no load running and starts one.
                        _running = false;
                        return true;
                    }
                    next = _waiting!;
                    _waiting = default;
                    _hasWaiting = false;
                }
                try
                {
                    await load(next);
                }
                catch (Exception ex)
                {
                    failed(ex, next);
                }
            }
        }
        catch
        {
            // Only a throwing failure handler gets here: give the loop up so the next request can start one.
            lock (_lock)
                _running = false;
            throw;
        }
    }

    /// <summary>Drops what waits (e.g. the page now shows something else); a round already loading finishes.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _waiting = default;
            _hasWaiting = false;
        }
    }
}
