using ConnectiveOne.Console.State.Changes;
using ConnectiveOne.Console.State.Session;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Notifications;

namespace ConnectiveOne.Console.State.Notifications;

/// <summary>
/// Loads the user's notifications when the session becomes known and again on each
/// <see cref="ChangeKind.NotificationsChanged"/> for them (new ones, or read on another page or device), and stores
/// read marks. One load at a time per circuit; a burst of changes costs a load or two.
/// </summary>
public sealed class NotificationsEffects(IServiceScopeFactory scopes, ILogger<NotificationsEffects> logger) : IEffect
{
    private readonly CoalescedLoads<string> _loads = new();

    public async Task HandleAsync(object action, Store store)
    {
        switch (action)
        {
            case SessionChanged { UserId: { } user }:
                await LoadAsync(store, user);
                break;
            case ChangeReceived { Change: { Kind: ChangeKind.NotificationsChanged, Id: var user } }
                when user == store.Select<SessionState>().UserId:
                await LoadAsync(store, user);
                break;
            case NotificationsReadRequested read when store.Select<SessionState>().UserId is { } user:
                await MarkAsync(store, user, read.Ids);
                break;
        }
    }

    private async Task MarkAsync(Store store, string user, IReadOnlyCollection<long>? ids)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            // Its notificationsChanged reloads every page of the user, this one included.
            await scope.ServiceProvider.GetRequiredService<NotificationCenter>().MarkReadAsync(user, ids);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Could not mark notifications read for user {UserId}", user);
            await LoadAsync(store, user);
        }
    }

    private Task LoadAsync(Store store, string user) => _loads.RequestAsync(user, async u =>
    {
        await using var scope = scopes.CreateAsyncScope();
        var page = await scope.ServiceProvider.GetRequiredService<NotificationCenter>().ListAsync(u);
        // The session may have changed while this loaded: only the current user's notifications are shown.
        if (store.Select<SessionState>().UserId == u)
            store.Dispatch(new NotificationsLoaded(u, page));
    }, (ex, u) => logger.LogError(ex, "Could not load the notifications of user {UserId}", u));
}
