using ConnectiveOne.Console.State.Changes;
using ConnectiveOne.Core.Bots;
using ConnectiveOne.Core.Events;

namespace ConnectiveOne.Console.State.Bots;

/// <summary>
/// Loads the bots and their address choices (the Bots page, and the setup wizard's bot step) when a view of them
/// opens or changes bots itself, and reloads them while one is open when an address's verification changes (DNS
/// re-checks and forwarding tests run in the background, so the dropdown follows live). One load at a time per
/// circuit; what arrives meanwhile causes one more.
/// </summary>
public sealed class BotsEffects(IServiceScopeFactory scopes, ILogger<BotsEffects> logger) : IEffect
{
    private readonly CoalescedLoads<bool> _loads = new();

    public async Task HandleAsync(object action, Store store)
    {
        switch (action)
        {
            case BotsPageOpened or BotsReloadRequested:
                await LoadAsync(store);
                break;
            case ChangeReceived { Change: var change } when Concerns(change) && store.Select<BotsState>().Active:
                await LoadAsync(store);
                break;
        }
    }

    private static bool Concerns(ChangeEvent change) =>
        change.Kind is ChangeKind.DomainStatusChanged or ChangeKind.ForwardingStatusChanged;

    private Task LoadAsync(Store store) => _loads.RequestAsync(true, async _ =>
    {
        await using var scope = scopes.CreateAsyncScope();
        var service = scope.ServiceProvider.GetRequiredService<BotService>();
        var bots = await service.ListAsync();
        var choices = await service.ListAddressChoicesAsync();
        store.Dispatch(new BotsLoaded([.. bots], [.. choices]));
    }, (ex, _) =>
    {
        logger.LogError(ex, "Could not load the bots");
        store.Dispatch(new BotsLoadFailed("The bots could not be loaded. It tries again on the next change; reload the page to try now."));
    });
}
