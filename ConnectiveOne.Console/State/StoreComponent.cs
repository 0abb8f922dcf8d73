using Microsoft.AspNetCore.Components;

namespace ConnectiveOne.Console.State;

/// <summary>A component that re-renders when the store changes (like Fluxor's FluxorComponent).</summary>
public abstract class StoreComponent : ComponentBase, IDisposable
{
    [Inject] protected Store Store { get; set; } = default!;

    protected TState Select<TState>() where TState : class => Store.Select<TState>();

    protected void Dispatch(object action) => Store.Dispatch(action);

    protected override void OnInitialized()
    {
        Store.StateChanged += OnStateChanged;
        base.OnInitialized();
    }

    private void OnStateChanged() => _ = InvokeAsync(StateHasChanged);

    public virtual void Dispose()
    {
        Store.StateChanged -= OnStateChanged;
        GC.SuppressFinalize(this);
    }
}
