using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace ConnectiveOne.Console.Live;

/// <summary>
/// <c>/hubs/live</c>: pushes API.md's live events (<c>ticketCreated</c>, <c>domainStatusChanged</c>, …) with the id
/// they concern to every signed-in client: browsers by cookie, integrations by <c>?access_token=</c>.
/// Clients only listen; the hub has no methods to call. <see cref="LiveSessionGuard"/> ends connections whose
/// sign-in no longer stands.
/// </summary>
[Authorize]
internal sealed class LiveHub(LiveSessionGuard guard) : Hub
{
    public const string Path = "/hubs/live";

    public override Task OnConnectedAsync()
    {
        guard.Connected(Context);
        return base.OnConnectedAsync();
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        guard.Disconnected(Context);
        return base.OnDisconnectedAsync(exception);
    }
}
