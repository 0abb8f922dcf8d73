using System.Collections.Immutable;
using System.Security.Claims;
using ConnectiveOne.Console.State.Session;
using ConnectiveOne.Core.Bots;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Tickets;
using Microsoft.AspNetCore.Components.Authorization;

namespace ConnectiveOne.Console.State.Inbox;

/// <summary>
/// Loads the inbox when it opens, its filter or page changes, or tickets change, and marks opened tickets as
/// seen. Reloads are coalesced: one load at a time per circuit, and changes that arrive meanwhile cause one
/// more load afterwards; circuits showing the same view share its query (<see cref="SharedTicketList"/>), and a
/// reload on a change reads no unread marks (the change itself marks its ticket unread), so a burst of mail costs
/// a view a query or two in all, not one per message or per open page.
/// </summary>
public sealed class InboxEffects(IServiceScopeFactory scopes, TicketCounts counts, SharedTicketList list,
    ChangeNotifier notifier, AuthenticationStateProvider auth, ILogger<InboxEffects> logger) : IEffect
{
    private readonly SemaphoreSlim _loading = new(1, 1);
    private int _pending, _unreadPending;
    private long _atLeast;

    private static void InterlockedMax(ref long target, long value)
    {
        var seen = Interlocked.Read(ref target);
        while (value > seen)
        {
            var was = Interlocked.CompareExchange(ref target, value, seen);
            if (was == seen)
                return;
            seen = was;
        }
    }
    private int _countsRequested;
    private int _countsRunning;

    public async Task HandleAsync(object action, Store store)
    {
        switch (action)
        {
            case InboxOpened:
                await LoadBotsAsync(store);
                await LoadAsync(store, notifier.Sequence, force: true);
                break;
            case InboxFilterChanged or InboxPageChanged:
                await LoadAsync(store, notifier.Sequence, force: true);
                break;
            case InboxRefreshRequested refresh when store.Select<InboxState>().Active:
                await LoadAsync(store, refresh.AtLeast, force: false);
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

    private async Task LoadBotsAsync(Store store)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var bots = await scope.ServiceProvider.GetRequiredService<BotService>().ListAsync();
            store.Dispatch(new InboxBotsLoaded([.. bots.Select(b => new BotOption(b.Id, b.Name))]));
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Could not load the bots for the inbox filter");
        }
    }

    private async Task LoadAsync(Store store, long atLeast, bool force)
    {
        InterlockedMax(ref _atLeast, atLeast);
        Interlocked.Exchange(ref _pending, 1);
        if (force)
            Interlocked.Exchange(ref _unreadPending, 1);
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
                    state.Filter.Mine ? userId ?? "-" : null, RoutedOnly: true, UserId: userId);
                var page = await list.ListAsync(filter, state.Page, InboxState.PageSize, Interlocked.Read(ref _atLeast));
                ImmutableHashSet<long>? unread = null;
                if (Interlocked.Exchange(ref _unreadPending, 0) == 1)
                {
                    await using var scope = scopes.CreateAsyncScope();
                    unread = userId is null
                        ? []
                        : [.. await scope.ServiceProvider.GetRequiredService<TicketReads>().UnreadAsync(userId, page.Items)];
                }
                store.Dispatch(new InboxLoaded(state.Filter, state.Page, [.. page.Items], page.Total, unread));
                // A search that could not be read lists nothing and says what is wrong with it, in words.
                if (page.SearchError is { } searchError)
                    store.Dispatch(new InboxLoadFailed(searchError));
            }
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Could not load the inbox");
            store.Dispatch(new InboxLoadFailed("The ticket list could not be loaded. It tries again on the next change; reload the page to try now."));
        }
        finally
        {
            _loading.Release();
        }
        // A change between the loop's last look and the release saw the load running and left it to it: look again.
        if (Volatile.Read(ref _pending) == 1)
            await LoadAsync(store, atLeast, force: false);
        else
            await LoadCountsAsync(store);
    }
}
