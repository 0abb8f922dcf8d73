using System.Collections.Immutable;
using System.Globalization;
using System.Security.Claims;
using ConnectiveOne.Console.State.Changes;
using ConnectiveOne.Console.State.Inbox;
using ConnectiveOne.Console.State.Session;
using ConnectiveOne.Console.State.Ticket;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Tickets;
using Microsoft.AspNetCore.Components.Authorization;

namespace ConnectiveOne.Console.State.Drafts;

/// <summary>
/// Reads drafts when a ticket opens and follows <see cref="ChangeKind.DraftChanged"/>: the user's own draft (saved on
/// another page or device) is read again and reaches the composer; another user's draft appearing or going reloads
/// who has one; the list's marks follow the event without a query. Loads run one at a time per circuit, so a newer
/// read never lands before an older one.
/// </summary>
public sealed class DraftsEffects(IServiceScopeFactory scopes, AuthenticationStateProvider auth, ILogger<DraftsEffects> logger) : IEffect
{
    private readonly CoalescedLoads<Follow> _follow = new(Follow.Merge);

    /// <summary>What to read for the open ticket: the user's draft and/or who else has one.</summary>
    private sealed record Follow(long TicketId, bool Mine, bool Authors)
    {
        public static Follow Merge(Follow waiting, Follow newer) => waiting.TicketId != newer.TicketId
            ? newer
            : new Follow(newer.TicketId, waiting.Mine || newer.Mine, waiting.Authors || newer.Authors);
    }

    public async Task HandleAsync(object action, Store store)
    {
        switch (action)
        {
            case TicketOpened opened:
                await FollowAsync(store, new Follow(opened.TicketId, Mine: true, Authors: true));
                break;
            case InboxLoaded loaded when await UserIdAsync(store) is { } userId:
                await using (var scope = scopes.CreateAsyncScope())
                {
                    var marked = await scope.ServiceProvider.GetRequiredService<TicketDrafts>()
                        .TicketsWithDraftsAsync(userId, [.. loaded.Tickets.Select(t => t.Id)]);
                    store.Dispatch(new DraftMarksLoaded([.. marked]));
                }
                break;
            case ChangeReceived { Change: { Kind: ChangeKind.DraftChanged } change } when long.TryParse(change.Id, CultureInfo.InvariantCulture, out var ticketId):
                var me = await UserIdAsync(store);
                var saved = change.Summary == TicketDrafts.Saved;
                if (change.ForUserId == me)
                    store.Dispatch(new DraftMarked(ticketId, saved));
                var state = store.Select<DraftState>();
                if (state.TicketId != ticketId)
                    break;
                if (change.ForUserId == me)
                    await FollowAsync(store, new Follow(ticketId, Mine: true, Authors: false));
                // Someone typing saves every second: only a draft that appears or goes changes the names shown.
                else if (saved != state.Others.Any(o => o.UserId == change.ForUserId))
                    await FollowAsync(store, new Follow(ticketId, Mine: false, Authors: true));
                break;
        }
    }

    private Task FollowAsync(Store store, Follow follow) => _follow.RequestAsync(follow, async gathered =>
    {
        if (store.Select<DraftState>().TicketId != gathered.TicketId || await UserIdAsync(store) is not { } userId)
            return;
        await using var scope = scopes.CreateAsyncScope();
        var drafts = scope.ServiceProvider.GetRequiredService<TicketDrafts>();
        if (gathered.Mine)
            store.Dispatch(new DraftLoaded(gathered.TicketId, await drafts.GetAsync(userId, gathered.TicketId)));
        if (gathered.Authors)
            store.Dispatch(new DraftAuthorsLoaded(gathered.TicketId, [.. await drafts.AuthorsAsync(gathered.TicketId, userId)]));
    }, (ex, gathered) => logger.LogError(ex, "Could not read the drafts of ticket {TicketId}", gathered.TicketId));

    private async Task<string?> UserIdAsync(Store store) =>
        store.Select<SessionState>().UserId
        ?? (await auth.GetAuthenticationStateAsync()).User.FindFirstValue(ClaimTypes.NameIdentifier);
}
