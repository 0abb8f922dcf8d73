using ConnectiveOne.Console.State.Changes;
using ConnectiveOne.Core.Bots;
using ConnectiveOne.Core.Events;

namespace ConnectiveOne.Console.State.Bots;

/// <summary>
/// Loads the Bots page's snapshot (bots and address choices) when it opens or changes bots itself, and reloads it
/// while it is open when an address's verification changes (DNS re-checks and forwarding tests run in the
/// background, so the dropdown follows live). One load at a time per circuit; what arrives meanwhile causes one more.
/// </summary>
public sealed class BotsEffects(IServiceScopeFactory scopes, ILogger<BotsEffects> logger) : IEffect
{
    private int _pending, _loading;

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

    private async Task LoadAsync(Store store)
    {
        Interlocked.Exchange(ref _pending, 1);
        if (Interlocked.Exchange(ref _loading, 1) == 1)
            return; // the running load goes round once more
        try
        {
            while (Interlocked.Exchange(ref _pending, 0) == 1)
            {
                await using var scope = scopes.CreateAsyncScope();
                var service = scope.ServiceProvider.GetRequiredService<BotService>();
                var bots = await service.ListAsync();
                var choices = await service.ListAddressChoicesAsync();
                store.Dispatch(new BotsLoaded([.. bots], [.. choices]));
            }
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Could not load the bots page");
            store.Dispatch(new BotsLoadFailed("The bots could not be loaded. It tries again on the next change; reload the page to try now."));
        }
        finally
        {
            Interlocked.Exchange(ref _loading, 0);
        }
        // A request between the loop's last look and the release above would otherwise wait for the next change.
        if (Volatile.Read(ref _pending) == 1)
            await LoadAsync(store);
    }
}
