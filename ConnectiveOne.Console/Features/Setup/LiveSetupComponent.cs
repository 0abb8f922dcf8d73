using ConnectiveOne.Console.State;
using Microsoft.AspNetCore.Components;

namespace ConnectiveOne.Console.Features.Setup;

/// <summary>
/// Base of the setup pages: reads through a fresh service scope per operation (a circuit lives long and its events
/// arrive concurrently, so one DbContext per circuit would go stale) and reloads when a change event concerns it,
/// as every live page does, through the store (<see cref="LiveComponent"/>).
/// </summary>
public abstract class LiveSetupComponent : LiveComponent
{
    [Inject] private IServiceScopeFactory Scopes { get; set; } = default!;

    /// <summary>True once the page is interactive (the circuit is up): rendered as <c>data-ready</c> for browser tests.</summary>
    protected bool Ready { get; private set; }

    /// <summary>Runs <paramref name="work"/> with a service of a new scope.</summary>
    protected async Task<T> UseAsync<TService, T>(Func<TService, Task<T>> work) where TService : notnull
    {
        await using var scope = Scopes.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<TService>());
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (firstRender)
        {
            Ready = true;
            StateHasChanged();
        }
    }
}
