using ConnectiveOne.Console.State.Session;
using System.Security.Claims;
using ConnectiveOne.Core.Tickets;
using Microsoft.AspNetCore.Components.Authorization;

namespace ConnectiveOne.Console.State.Inbox;

/// <summary>
/// Loads the inbox when it opens, its filter or page changes, or tickets change, and marks opened tickets as
/// seen. Reloads are coalesced: one load at a time per circuit, and changes that arrive meanwhile cause one
/// more load afterwards, so a burst of mail costs a few queries, not one per message.
/// </summary>
public sealed class InboxEffects(IServiceScopeFactory scopes, TicketCounts counts, AuthenticationStateProvider auth,
    ILogger<InboxEffects> logger) : IEffect
{
    private readonly SemaphoreSlim _loading = new(1, 1);
    private int _pending;
    private int _countsRequested;
    private int _countsRunning;

    public async Task HandleAsync(object action, Store store)
    {
        switch (action)
        {
            case InboxOpened or InboxFilterChanged or InboxPageChanged:
                await LoadAsync(store, force: true);
                break;
            case InboxRefreshRequested when store.Select<InboxState>().Active:
                await LoadAsync(store, force: false);
                break;
            case InboxRefreshRequested or InboxCountsRequested:
                await LoadCountsAsync(store);
                break;
            case TicketSelected { TicketId: { } id } when await UserIdAsync(store) is { } userId:
                await using (var scope = scopes.CreateAsyncScope())
                    await scope.ServiceProvider.GetRequiredService<TicketReads>().MarkSeenAsync(userId, id);
                break;
        }
    }

    /// <summary>The signed-in user: from the store, or (before the shell has published the session) from the circuit.</summary>
    private async Task<string?> UserIdAsync(Store store) =>
        store.Select<SessionState>().UserId
        ?? (await auth.GetAuthenticationStateAsync()).User.FindFirstValue(ClaimTypes.NameIdentifier);

    /// <summary>
    /// Counts are shared and recounted at most once a second; a trailing reload catches the end of a burst. A request
    /// that comes while one runs is not dropped: the running one goes round once more.
    /// </summary>
    private async Task LoadCountsAsync(Store store)
    {
        Interlocked.Exchange(ref _countsRequested, 1);
        if (Interlocked.Exchange(ref _countsRunning, 1) == 1)
            return;
        try
        {
            while (Interlocked.Exchange(ref _countsRequested, 0) == 1)
            {
                store.Dispatch(new InboxCountsLoaded(await counts.GetAsync()));
                if (counts.IsStale)
                {
                    await Task.Delay(TicketCounts.MinInterval);
                    Interlocked.Exchange(ref _countsRequested, 1);
                }
            }
        }
        finally
        {
            Interlocked.Exchange(ref _countsRunning, 0);
        }
        // A request between the last check and the release above would otherwise wait for the next change.
        if (Volatile.Read(ref _countsRequested) == 1)
            await LoadCountsAsync(store);
    }

    private async Task LoadAsync(Store store, bool force)
    {
        Interlocked.Exchange(ref _pending, 1);
        if (!force && _loading.CurrentCount == 0)
            return; // the running load picks the change up
        await _loading.WaitAsync();
        try
        {
            while (Interlocked.Exchange(ref _pending, 0) == 1)
            {
                var state = store.Select<InboxState>();
                var userId = await UserIdAsync(store);
                var filter = new TicketFilter(state.Filter.BotId, state.Filter.Status, state.Filter.Query,
                    state.Filter.Mine ? userId ?? "-" : null, RoutedOnly: true);
                await using var scope = scopes.CreateAsyncScope();
                var page = await scope.ServiceProvider.GetRequiredService<TicketQueries>()
                    .ListAsync(filter, state.Page, InboxState.PageSize, CancellationToken.None);
                IReadOnlySet<long> unread = userId is null
                    ? new HashSet<long>()
                    : await scope.ServiceProvider.GetRequiredService<TicketReads>().UnreadAsync(userId, page.Items);
                store.Dispatch(new InboxLoaded(state.Filter, state.Page, [.. page.Items], page.Total, [.. unread]));
            }
            await LoadCountsAsync(store);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Could not load the inbox");
        }
        finally
        {
            _loading.Release();
        }
    }
}
