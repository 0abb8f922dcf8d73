using System.Collections.Immutable;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Tickets;

namespace ConnectiveOne.Console.State.Ticket;

/// <summary>
/// Loads the open ticket's snapshot (header and last page) when it opens, older pages on request, and then follows
/// its change events: an added message or a changed delivery loads only those messages, a ticket update only the
/// header. Loads are coalesced per circuit: while one runs, what arrives meanwhile is gathered and loaded in one
/// query afterwards, so a burst of 2,000 messages costs a handful of queries per viewer, not 2,000.
/// </summary>
public sealed class TicketEffects(IServiceScopeFactory scopes, ILogger<TicketEffects> logger) : IEffect
{
    private readonly CoalescedLoads<Follow> _follow = new(Follow.Merge);
    private int _loadingOlder;

    /// <summary>What to load of the open ticket: some messages (or the newest page) and/or its header.</summary>
    private sealed record Follow(long TicketId, ImmutableHashSet<long> MessageIds, bool Header)
    {
        /// <summary>Gathered for another ticket than the newer request's: dropped, that ticket is no longer open.</summary>
        public static Follow Merge(Follow waiting, Follow newer) => waiting.TicketId != newer.TicketId
            ? newer
            : new Follow(newer.TicketId, waiting.MessageIds.Union(newer.MessageIds), waiting.Header || newer.Header);
    }

    public async Task HandleAsync(object action, Store store)
    {
        switch (action)
        {
            case TicketOpened opened:
                _follow.Clear();
                var snapshot = await QueryAsync(q => q.GetAsync(opened.TicketId, CancellationToken.None));
                store.Dispatch(new TicketLoaded(opened.TicketId, snapshot));
                break;
            case OlderMessagesRequested older:
                await LoadOlderAsync(store, older.TicketId);
                break;
            case TicketHeaderRequested header when store.Select<TicketState>().TicketId == header.TicketId:
                await FollowAsync(store, new Follow(header.TicketId, [], Header: true));
                break;
            // A merge, split or undo moved messages in or out: the whole thread again (a merged ticket's is its target's).
            case Changes.ChangeReceived { Change: { Kind: ChangeKind.TicketUpdated, Summary: TicketWorkflow.ThreadChanged } moved }
                when store.Select<TicketState>().TicketId is { } reopen && moved.Id == reopen.ToString(System.Globalization.CultureInfo.InvariantCulture):
                _follow.Clear();
                store.Dispatch(new TicketLoaded(reopen, await QueryAsync(q => q.GetAsync(reopen, CancellationToken.None))));
                break;
            case Changes.ChangeReceived { Change: var change } when store.Select<TicketState>() is { TicketId: { } open } state:
                if (Concerns(change, open, state) is { } what)
                    await FollowAsync(store, new Follow(open, what.MessageId is { } id ? [id] : [], what.Header));
                break;
        }
    }

    /// <summary>Which message to load (and whether the header) for an event about the open ticket; null when it is not about it.</summary>
    private static (long? MessageId, bool Header)? Concerns(ChangeEvent change, long open, TicketState state)
    {
        var ticketId = open.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return change.Kind switch
        {
            // Without a message id (a node on the previous version) the newest page is merged in instead.
            ChangeKind.MessageAdded when change.Id == ticketId => (change.MessageId ?? NewestPage, false),
            ChangeKind.TicketUpdated when change.Id == ticketId => (null, true),
            // A message shown, or one newer than all shown: a reply just sent can be delivered before the load its
            // messageAdded asked for has brought it (that load may then show it Queued). The load reads only this
            // ticket's messages, so another ticket's delivery costs one empty read.
            ChangeKind.DeliveryStatusChanged when long.TryParse(change.Id, out var id)
                && (state.Messages.Exists(m => m.Id == id) || state.Messages.All(m => m.Id < id)) => (id, false),
            _ => null,
        };
    }

    private const long NewestPage = -1;

    private Task FollowAsync(Store store, Follow follow) => _follow.RequestAsync(follow, async gathered =>
    {
        // Another ticket opened meanwhile: what was gathered for this one is dropped.
        if (store.Select<TicketState>().TicketId == gathered.TicketId)
            await LoadAsync(store, gathered.TicketId, [.. gathered.MessageIds], gathered.Header);
    }, (ex, gathered) => logger.LogError(ex, "Could not follow the changes of ticket {TicketId}", gathered.TicketId));

    private async Task LoadAsync(Store store, long ticketId, long[] ids, bool header)
    {
        await using var scope = scopes.CreateAsyncScope();
        var queries = scope.ServiceProvider.GetRequiredService<TicketQueries>();
        IReadOnlyList<TicketMessageView> messages = [];
        if (ids.Contains(NewestPage))
            messages = (await queries.MessagesAsync(ticketId, null, TicketQueries.DefaultMessageLimit, CancellationToken.None))?.Messages ?? [];
        else if (ids.Length > 0)
            messages = await queries.GetMessagesAsync(ticketId, ids, CancellationToken.None);
        foreach (var message in messages)
            store.Dispatch(new TicketMessageLoaded(ticketId, message));
        if (header && await queries.GetHeaderAsync(ticketId, CancellationToken.None) is { } loaded)
            store.Dispatch(new TicketHeaderLoaded(ticketId, loaded));
    }

    /// <summary>One older page at a time: scrolling and the button may both ask for the same one.</summary>
    private async Task LoadOlderAsync(Store store, long ticketId)
    {
        if (store.Select<TicketState>() is not { HasOlder: true, Messages: [var first, ..] } state || state.TicketId != ticketId)
            return;
        if (Interlocked.Exchange(ref _loadingOlder, 1) == 1)
            return;
        try
        {
            var page = await QueryAsync(q => q.MessagesAsync(ticketId, first.Id, TicketQueries.DefaultMessageLimit, CancellationToken.None));
            store.Dispatch(new OlderMessagesLoaded(ticketId, first.Id, page ?? new MessagePage([], false)));
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Could not load older messages of ticket {TicketId}", ticketId);
            // Still "has older": the button stays, so the operator can try again.
            store.Dispatch(new OlderMessagesLoaded(ticketId, first.Id, new MessagePage([], true)));
        }
        finally
        {
            Interlocked.Exchange(ref _loadingOlder, 0);
        }
    }

    private async Task<T> QueryAsync<T>(Func<TicketQueries, Task<T>> query)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<TicketQueries>());
    }
}
