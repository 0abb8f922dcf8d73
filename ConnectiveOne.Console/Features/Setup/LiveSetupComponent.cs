using ConnectiveOne.Console.State;
using ConnectiveOne.Console.State.Setup;
using Microsoft.AspNetCore.Components;

namespace ConnectiveOne.Console.Features.Setup;

/// <summary>
/// Base of the setup pages. What they show comes from the store (<see cref="SetupState"/>): a page opens its view,
/// <see cref="SetupEffects"/> loads it and follows the change events that concern it, and the page selects its slices,
/// re-rendering only when they change. What the page does itself (add, verify, send a test) runs through a fresh
/// service scope per operation (a circuit lives long; one DbContext per circuit would go stale).
/// </summary>
public abstract class LiveSetupComponent : StoreComponent
{
    [Inject] private IServiceScopeFactory Scopes { get; set; } = default!;

    private SetupView? _view;

    /// <summary>True once the page is interactive (the circuit is up): rendered as <c>data-ready</c> for browser tests.</summary>
    protected bool Ready { get; private set; }

    /// <summary>Opens the page's view, or opens it anew when what it shows changed (the wizard moved to another address).</summary>
    protected void Open(SetupSlices shows, Guid? addressId = null, string? domainName = null)
    {
        if (_view is { } shown && shown.Shows == shows && shown.AddressId == addressId && shown.DomainName == domainName)
            return;
        _view = new SetupView(Guid.NewGuid(), shows, addressId, domainName);
        Dispatch(new SetupOpened(_view));
    }

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

    public override void Dispose()
    {
        // The next page may have opened already (Blazor disposes the old page after the new one initialized): the visit says whose.
        if (_view is { } view)
            Dispatch(new SetupClosed(view.Visit));
        base.Dispose();
    }
}
