namespace ConnectiveOne.Console.State;

/// <summary>
/// The Flux-shaped store (Fluxor's shape, kept small because Fluxor is not available here): immutable
/// feature states, actions as records, pure reducers, and effects that react to actions by dispatching
/// more. Dispatch is non-reentrant: an action dispatched while another is being reduced is queued and
/// handled after it, so reducers always see a consistent state. One store per circuit.
/// </summary>
public sealed class Store(IEnumerable<IFeature> features, IEnumerable<IEffect> effects, ILogger<Store> logger)
{
    private readonly Dictionary<Type, IFeature> _features = features.ToDictionary(f => f.StateType);
    private readonly Dictionary<Type, object> _states = features.ToDictionary(f => f.StateType, f => f.InitialState);
    private readonly IEffect[] _effects = effects.ToArray();
    private readonly Queue<object> _queue = new();
    private readonly Lock _lock = new();
    private bool _dispatching;

    private Action? _stateChanged;

    /// <summary>Raised after one or more actions were reduced (on the dispatching thread).</summary>
    public event Action? StateChanged
    {
        add
        {
            lock (_lock)
                _stateChanged += value;
        }
        remove
        {
            lock (_lock)
                _stateChanged -= value;
        }
    }

    /// <summary>How many handlers listen to <see cref="StateChanged"/>: what a page that left must have given back.</summary>
    public int SubscriberCount
    {
        get
        {
            lock (_lock)
                return _stateChanged?.GetInvocationList().Length ?? 0;
        }
    }

    /// <summary>The current state of a feature.</summary>
    public TState Select<TState>() where TState : class
    {
        lock (_lock)
            return (TState)_states[typeof(TState)];
    }

    /// <summary>
    /// Reduces the action, tells subscribers, then starts effects. Actions dispatched meanwhile (by a subscriber,
    /// an effect or another thread) wait in the queue and are handled by the loop already running.
    /// </summary>
    public void Dispatch(object action)
    {
        ArgumentNullException.ThrowIfNull(action);
        lock (_lock)
        {
            _queue.Enqueue(action);
            if (_dispatching)
                return;
            _dispatching = true;
        }
        while (true)
        {
            List<object> handled = [];
            lock (_lock)
            {
                while (_queue.TryDequeue(out var next))
                {
                    foreach (var (type, feature) in _features)
                        _states[type] = feature.Reduce(_states[type], next);
                    handled.Add(next);
                }
                if (handled.Count == 0)
                {
                    _dispatching = false;
                    return;
                }
            }
            Action? subscribers;
            lock (_lock)
                subscribers = _stateChanged;
            try
            {
                subscribers?.Invoke();
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "A store subscriber failed");
            }
            foreach (var done in handled)
                foreach (var effect in _effects)
                    _ = RunEffectAsync(effect, done);
        }
    }

    private async Task RunEffectAsync(IEffect effect, object action)
    {
        try
        {
            await effect.HandleAsync(action, this);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Effect {Effect} failed on {Action}", effect.GetType().Name, action.GetType().Name);
        }
    }
}

/// <summary>A slice of state with its initial value and pure reducers.</summary>
public interface IFeature
{
    Type StateType { get; }
    object InitialState { get; }
    object Reduce(object state, object action);
}

/// <summary>Base for a feature: declare reducers with <see cref="On{TAction}"/>; unknown actions leave the state as it is.</summary>
public abstract class Feature<TState> : IFeature where TState : class
{
    private readonly Dictionary<Type, Func<TState, object, TState>> _reducers = [];

    public Type StateType => typeof(TState);
    public abstract TState Initial { get; }
    object IFeature.InitialState => Initial;

    protected void On<TAction>(Func<TState, TAction, TState> reducer) =>
        _reducers[typeof(TAction)] = (state, action) => reducer(state, (TAction)action);

    public object Reduce(object state, object action) =>
        _reducers.TryGetValue(action.GetType(), out var reducer) ? reducer((TState)state, action) : state;
}

/// <summary>Side effects: react to an action, possibly by dispatching others. Never change state directly.</summary>
public interface IEffect
{
    Task HandleAsync(object action, Store store);
}

public static class StoreRegistration
{
    public static IServiceCollection AddConnectiveOneStore(this IServiceCollection services)
    {
        services.AddScoped<Store>();
        services.AddSingleton<IFeature, Session.SessionFeature>();
        services.AddSingleton<IFeature, Notifications.NotificationsFeature>();
        services.AddScoped<IEffect, Notifications.NotificationsEffects>();
        services.AddSingleton<IFeature, Inbox.InboxFeature>();
        services.AddSingleton<IFeature, Changes.ChangesFeature>();
        services.AddScoped<IEffect, Inbox.InboxEffects>();
        services.AddSingleton<IFeature, Ticket.TicketFeature>();
        services.AddScoped<IEffect, Ticket.TicketEffects>();
        services.AddSingleton<IFeature, Drafts.DraftsFeature>();
        services.AddScoped<IEffect, Drafts.DraftsEffects>();
        services.AddSingleton<IFeature, Bots.BotsFeature>();
        services.AddScoped<IEffect, Bots.BotsEffects>();
        services.AddSingleton<IFeature, Setup.SetupFeature>();
        services.AddScoped<IEffect, Setup.SetupEffects>();
        services.AddSingleton<Inbox.SharedTicketList>();
        services.AddScoped<StoreConnector>();
        return services;
    }
}
