using System.Security.Claims;
using ConnectiveOne.Console.State.Changes;
using ConnectiveOne.Console.State.Inbox;
using ConnectiveOne.Console.State.Session;
using ConnectiveOne.Core.Accounts;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Tickets;
using Microsoft.AspNetCore.Components.Authorization;

namespace ConnectiveOne.Console.State;

/// <summary>
/// Feeds the circuit's store from the outside world: the signed-in user, the in-process change events and presence.
/// The one live path of a page: it subscribes first, then loads what is true now (presence snapshot, counts), so
/// nothing that happens in between is lost; pages read the store and never subscribe to the notifier themselves.
/// Started once by the layout as soon as the circuit is interactive (before the page under it initializes);
/// disposed with the circuit.
/// </summary>
public sealed class StoreConnector(Store store, AuthenticationStateProvider auth, ChangeNotifier notifier, TicketPresence presence)
    : IDisposable
{
    private IDisposable? _subscription;
    private bool _presence;

    /// <summary>Subscribes and loads the snapshot synchronously; the session follows when the user is known.</summary>
    public Task StartAsync()
    {
        if (_subscription is not null)
            return Task.CompletedTask;
        _subscription = notifier.Subscribe(OnChange);
        presence.Changed += OnPresence;
        _presence = true;
        store.Dispatch(new PresenceLoaded(presence.Snapshot()));
        store.Dispatch(new InboxCountsRequested());
        auth.AuthenticationStateChanged += OnAuthenticationChanged;
        return PublishAsync();
    }

    private async Task PublishAsync() => Publish((await auth.GetAuthenticationStateAsync()).User);

    private void OnPresence(long ticketId) => store.Dispatch(new PresenceUpdated(ticketId, presence.ViewersOf(ticketId)));

    private void OnAuthenticationChanged(Task<AuthenticationState> state) =>
        _ = state.ContinueWith(t => Publish(t.Result.User), TaskContinuationOptions.OnlyOnRanToCompletion);

    private void Publish(ClaimsPrincipal user)
    {
        var signedIn = user.Identity?.IsAuthenticated == true;
        store.Dispatch(new SessionChanged(
            signedIn ? user.FindFirstValue(ClaimTypes.NameIdentifier) : null,
            signedIn ? user.Identity!.Name : null,
            signedIn ? user.FindFirstValue(ClaimTypes.Email) : null,
            signedIn && user.IsInRole(Roles.Admin)));
    }

    private void OnChange(ChangeEvent change)
    {
        store.Dispatch(new ChangeReceived(change));
        if (change.Kind is ChangeKind.TicketCreated or ChangeKind.MessageAdded or ChangeKind.TicketUpdated
            or ChangeKind.DeliveryStatusChanged)
        {
            if (change.Kind != ChangeKind.DeliveryStatusChanged && long.TryParse(change.Id, out var ticketId))
                store.Dispatch(new TicketActivity(ticketId));
            // Intake publishes every TicketCreated with the MessageAdded of its first message right behind it: one
            // reload for the pair, not two (a burst of new tickets would otherwise cost the list two queries each).
            if (change.Kind != ChangeKind.TicketCreated)
                store.Dispatch(new InboxRefreshRequested { AtLeast = notifier.Sequence });
        }
    }

    public void Dispose()
    {
        auth.AuthenticationStateChanged -= OnAuthenticationChanged;
        _subscription?.Dispose();
        if (_presence)
            presence.Changed -= OnPresence;
    }
}
