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
    private readonly CoalescedLoads<ListLoad> _list = new(ListLoad.Merge);
    private readonly CoalescedLoads<bool> _counts = new();

    /// <summary>
    /// A load of the list: at least as new as change number <see cref="AtLeast"/>, with the unread marks when the view
    /// itself changed (opened, filter, page) rather than a ticket.
    /// </summary>
    private sealed record ListLoad(long AtLeast, bool Unread)
    {
        public static ListLoad Merge(ListLoad waiting, ListLoad newer) =>
            new(Math.Max(waiting.AtLeast, newer.AtLeast), waiting.Unread || newer.Unread);
    }

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
    private Task LoadCountsAsync(Store store) => _counts.RequestAsync(true, async _ =>
    {
        store.Dispatch(new InboxCountsLoaded(await counts.GetAsync()));
        if (counts.IsStale)
        {
            await Task.Delay(TicketCounts.MinInterval);
            await LoadCountsAsync(store); // joins the rounds running now: one more
        }
    }, (ex, _) =>
    {
        // The app is stopping (its counter is disposed under a circuit still counting): nothing an admin must look at.
        if (ex is ObjectDisposedException)
            logger.LogDebug(ex, "The inbox count stopped with the app");
        else
            logger.LogError(ex, "Could not count the inbox");
    });

    private async Task LoadBotsAsync(Store store)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var bots = await scope.ServiceProvider.GetRequiredService<BotService>().ListAsync();
            store.Dispatch(new InboxBotsLoaded([.. bots.Select(b => new BotOption(b.Id, b.Name))]));
            // The rows show the assignee's initials: names by id, read with the bots rather than per row.
            var users = await scope.ServiceProvider.GetRequiredService<TicketCommands>().AssignableAsync();
            store.Dispatch(new InboxAssigneesLoaded(users.ToImmutableDictionary(u => u.Id, u => u.Name)));
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Could not load the bots and assignees for the inbox");
        }
    }

    private async Task LoadAsync(Store store, long atLeast, bool force)
    {
        // Only the call that ran the rounds recounts afterwards; the others left their request to it.
        if (await _list.RequestAsync(new ListLoad(atLeast, Unread: force), load => LoadListAsync(store, load), (ex, _) =>
            {
                logger.LogError(ex, "Could not load the inbox");
                store.Dispatch(new InboxLoadFailed("The ticket list could not be loaded. It tries again on the next change; reload the page to try now."));
            }))
            await LoadCountsAsync(store);
    }

    private async Task LoadListAsync(Store store, ListLoad load)
    {
        var state = store.Select<InboxState>();
        var userId = await UserIdAsync(store);
        var filter = new TicketFilter(state.Filter.BotId, state.Filter.Status, state.Filter.Query,
            state.Filter.Mine ? userId ?? "-" : null, RoutedOnly: true)
        {
            Snoozed = state.Filter.Snoozed ? true : state.Filter.Status is null ? null : false,
        };
        var page = await list.ListAsync(filter, state.Page, InboxState.PageSize, load.AtLeast);
        ImmutableHashSet<long>? unread = null;
        if (load.Unread)
        {
            await using var scope = scopes.CreateAsyncScope();
            unread = userId is null
                ? []
                : [.. await scope.ServiceProvider.GetRequiredService<TicketReads>().UnreadAsync(userId, page.Items)];
        }
        store.Dispatch(new InboxLoaded(state.Filter, state.Page, [.. page.Items], page.Total, unread));
    }
}
