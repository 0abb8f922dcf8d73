using ConnectiveOne.Console.State.Changes;
using ConnectiveOne.Core.Events;
using Microsoft.AspNetCore.Components;

namespace ConnectiveOne.Console.State;

/// <summary>
/// A page that loads its own data and reloads when a change event concerning it reaches the store. The place it
/// starts following is taken before its first load, so a change that lands while it loads is not missed; a failed
/// reload is logged and shown as <see cref="LoadError"/> instead of vanishing in a discarded task.
/// </summary>
public abstract class LiveComponent : StoreComponent
{
    private long _seen = -1;
    private int _reloading, _again;

    [Inject] private ILogger<LiveComponent> Log { get; set; } = default!;

    /// <summary>Words for the page's error state when its last reload failed; null when it worked.</summary>
    protected string? LoadError { get; private set; }

    /// <summary>Whether a change concerns what this component shows.</summary>
    protected abstract bool Concerns(ChangeEvent change);

    /// <summary>Reloads what the component shows.</summary>
    protected abstract Task ReloadAsync();

    public override Task SetParametersAsync(ParameterView parameters)
    {
        if (_seen < 0)
            _seen = Store.Select<ChangesState>().Sequence;
        return base.SetParametersAsync(parameters);
    }

    protected override void OnStoreChanged()
    {
        var changes = Store.Select<ChangesState>();
        var news = changes.Since(Volatile.Read(ref _seen));
        if (news is { Count: 0 })
            return;
        Volatile.Write(ref _seen, changes.Sequence);
        if (news is null || news.Any(Concerns))
            _ = ReloadOnChangeAsync();
    }

    /// <summary>One reload at a time; a change that comes while one runs makes it go round once more.</summary>
    private async Task ReloadOnChangeAsync()
    {
        Interlocked.Exchange(ref _again, 1);
        if (Interlocked.Exchange(ref _reloading, 1) == 1)
            return;
        try
        {
            while (Interlocked.Exchange(ref _again, 0) == 1)
                await InvokeAsync(ReloadShownAsync);
        }
        catch (ObjectDisposedException)
        {
            return; // the page was closed while reloading
        }
        finally
        {
            Interlocked.Exchange(ref _reloading, 0);
        }
        if (Volatile.Read(ref _again) == 1)
            await ReloadOnChangeAsync();
    }

    private async Task ReloadShownAsync()
    {
        try
        {
            await ReloadAsync();
            LoadError = null;
        }
        catch (Exception ex) when (ex is not ObjectDisposedException)
        {
            Log.LogError(ex, "{Component} could not reload after a change", GetType().Name);
            LoadError = "This page could not be brought up to date. Reload the page to try again.";
        }
        StateHasChanged();
    }
}
