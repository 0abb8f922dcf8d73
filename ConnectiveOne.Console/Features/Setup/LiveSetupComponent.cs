using ConnectiveOne.Core.Events;
using Microsoft.AspNetCore.Components;

namespace ConnectiveOne.Console.Features.Setup;

/// <summary>
/// Base of the setup pages: reads through a fresh service scope per operation (a circuit lives long and its events
/// arrive concurrently, so one DbContext per circuit would go stale) and reloads when a change event concerns it.
/// </summary>
public abstract class LiveSetupComponent : ComponentBase, IDisposable
{
    private IDisposable? _subscription;

    [Inject] private IServiceScopeFactory Scopes { get; set; } = default!;
    [Inject] private ChangeNotifier Notifier { get; set; } = default!;

    /// <summary>True once the page is interactive (the circuit is up): rendered as <c>data-ready</c> for browser tests.</summary>
    protected bool Ready { get; private set; }

    /// <summary>Runs <paramref name="work"/> with a service of a new scope.</summary>
    protected async Task<T> UseAsync<TService, T>(Func<TService, Task<T>> work) where TService : notnull
    {
        await using var scope = Scopes.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<TService>());
    }

    /// <summary>Whether a change concerns what this component shows.</summary>
    protected abstract bool Concerns(ChangeEvent change);

    /// <summary>Reloads what the component shows.</summary>
    protected abstract Task ReloadAsync();

    protected override void OnAfterRender(bool firstRender)
    {
        // Subscribe once interactive: prerendering has no circuit to push to.
        if (firstRender)
        {
            _subscription = Notifier.Subscribe(OnChange);
            Ready = true;
            StateHasChanged();
        }
    }

    private void OnChange(ChangeEvent change)
    {
        if (!Concerns(change))
            return;
        _ = InvokeAsync(async () =>
        {
            try
            {
                await ReloadAsync();
                StateHasChanged();
            }
            catch (ObjectDisposedException)
            {
                // The page was closed while reloading.
            }
        });
    }

    public virtual void Dispose()
    {
        _subscription?.Dispose();
        GC.SuppressFinalize(this);
    }
}
