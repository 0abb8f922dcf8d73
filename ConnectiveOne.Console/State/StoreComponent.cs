using Microsoft.AspNetCore.Components;

namespace ConnectiveOne.Console.State;

/// <summary>
/// A component that shows part of the store (like Fluxor's FluxorComponent) and re-renders only when what it selected
/// changed: each <see cref="Select{TState}"/> or <see cref="Select{TState, TSlice}"/> made while rendering is
/// remembered, re-read on every store change and compared with what was shown. A component that never selected
/// anything, or whose slices are equal, is not re-rendered. Only a component rendered interactively (on the circuit)
/// follows the store; a prerendered one shows the store as it was when it rendered.
/// </summary>
public abstract class StoreComponent : ComponentBase, IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<object, Selection> _selections = [];
    private bool _subscribed, _disposed;

    [Inject] protected Store Store { get; set; } = default!;
    [Inject] private ILogger<StoreComponent> Logger { get; set; } = default!;

    private sealed class Selection(Func<object?> read, object? shown)
    {
        public Func<object?> Read { get; set; } = read;
        public object? Shown { get; set; } = shown;
    }

    /// <summary>A whole feature state; the component re-renders when it is replaced by a different value.</summary>
    protected TState Select<TState>() where TState : class => Remember(typeof(TState), () => Store.Select<TState>());

    /// <summary>
    /// A slice of a feature state, e.g. <c>Select((InboxState s) => s.Counts)</c>; the component re-renders only when the
    /// slice changes (by <see cref="object.Equals(object?, object?)"/>: records by value, immutable collections by identity).
    /// One selector method is one slice: a lambda called with several captured values keeps the last.
    /// </summary>
    protected TSlice Select<TState, TSlice>(Func<TState, TSlice> selector) where TState : class =>
        Remember((typeof(TState), selector.Method), () => selector(Store.Select<TState>()));

    protected void Dispatch(object action) => Store.Dispatch(action);

    /// <summary>
    /// True once the component is disposed. Blazor disposes a page before its child components, whose teardown can
    /// still call the page's callbacks (a stepper's steps unregistering move its active step).
    /// </summary>
    protected bool IsDisposed => _disposed;

    public override Task SetParametersAsync(ParameterView parameters)
    {
        // Here rather than in OnInitialized: runs once for every subclass, whether or not it calls base.OnInitialized().
        // Only an interactive render follows the store. A prerendered instance (the static renderer, during the HTTP
        // request) shows one snapshot and is thrown away; re-rendered there on the changes its own page's loads brought to
        // the request's store, it made Blazor's diff throw NullReferenceException (the inbox, once the draft marks loaded).
        if (!_subscribed && !_disposed && RendererInfo.IsInteractive)
        {
            Store.StateChanged += OnStateChanged;
            _subscribed = true;
        }
        return base.SetParametersAsync(parameters);
    }

    private T Remember<T>(object key, Func<T> read)
    {
        var value = read();
        lock (_lock)
        {
            if (_selections.TryGetValue(key, out var selection))
            {
                selection.Read = () => read();
                selection.Shown = value;
            }
            else
                _selections[key] = new Selection(() => read(), value);
        }
        return value;
    }

    /// <summary>Called on every store change (on the dispatching thread), before the selections are compared.</summary>
    protected virtual void OnStoreChanged()
    {
    }

    private void OnStateChanged()
    {
        if (_disposed)
            return;
        OnStoreChanged();
        var changed = false;
        lock (_lock)
        {
            foreach (var selection in _selections.Values)
            {
                var now = selection.Read();
                if (!Equals(now, selection.Shown))
                {
                    selection.Shown = now;
                    changed = true;
                }
            }
        }
        if (changed && !_disposed)
            _ = RenderAsync();
    }

    private async Task RenderAsync()
    {
        try
        {
            await InvokeAsync(StateHasChanged);
        }
        catch (ObjectDisposedException)
        {
            // The circuit closed between the change and the render.
        }
        catch (Exception ex)
        {
            Logger.LogError(ex, "{Component} failed to re-render on a store change", GetType().Name);
        }
    }

    public virtual void Dispose()
    {
        _disposed = true;
        if (_subscribed)
        {
            Store.StateChanged -= OnStateChanged;
            _subscribed = false;
        }
        GC.SuppressFinalize(this);
    }
}
