using System.Security.Claims;
using ConnectiveOne.Core.Accounts;
using ConnectiveOne.Core.Events;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Components.Server.Circuits;

namespace ConnectiveOne.Console.Auth;

/// <summary>
/// The signed-in user of one circuit, ended as soon as their credentials change: a new password, "sign out
/// everywhere", a role change or deactivation all give the user a new security stamp, and a circuit whose stamp is
/// no longer the user's becomes anonymous, so the page goes to sign-in. Checked when the circuit starts, at once on
/// <see cref="ChangeKind.UserChanged"/> for the user, and every few seconds as a safety net (an event missed on
/// another node, a change made straight in the database).
/// </summary>
/// <remarks>Registered by <see cref="LiveAuthentication.AddLiveAuthentication"/>.</remarks>
internal sealed class LiveAuthenticationStateProvider : ServerAuthenticationStateProvider, IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(3);
    private readonly IServiceScopeFactory _scopes;
    private readonly ILogger<LiveAuthenticationStateProvider> _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly IDisposable _subscription;
    private string? _userId;
    private bool _watching;
    private int _loopStarted;
    private int _disposed;

    public LiveAuthenticationStateProvider(IServiceScopeFactory scopes, ChangeNotifier notifier,
        ILogger<LiveAuthenticationStateProvider> logger)
    {
        _scopes = scopes;
        _logger = logger;
        _subscription = notifier.Subscribe(change =>
        {
            if (_watching && change.Kind == ChangeKind.UserChanged && change.Id == _userId)
                _ = CheckSafelyAsync();
        });
        AuthenticationStateChanged += OnChanged;
    }

    /// <summary>
    /// Called when this scope is an interactive circuit. A static page request is not watched: its cookie was checked
    /// on arrival, and a page that changes the user's own password must still render its answer.
    /// </summary>
    public void Watch()
    {
        _watching = true;
        StartIfReady();
    }

    private void OnChanged(Task<AuthenticationState> state) => _ = TrackAsync(state);

    private async Task TrackAsync(Task<AuthenticationState> state)
    {
        var user = (await state).User;
        _userId = user.Identity?.IsAuthenticated == true ? user.FindFirstValue(ClaimTypes.NameIdentifier) : null;
        StartIfReady();
    }

    private void StartIfReady()
    {
        if (_watching && _userId is not null && Interlocked.Exchange(ref _loopStarted, 1) == 0)
            _ = LoopAsync();
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            // A cookie is only re-checked every few seconds: a circuit started with an old one ends here.
            await CheckSafelyAsync();
            while (await timer.WaitForNextTickAsync(_stop.Token))
                await CheckSafelyAsync();
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task CheckSafelyAsync()
    {
        try
        {
            await IsCurrentAsync();
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not ObjectDisposedException)
        {
            _logger.LogWarning(ex, "Could not re-check the signed-in user {UserId}", _userId);
        }
    }

    /// <summary>
    /// True while the circuit's sign-in still stands; otherwise signs the circuit out. Actions that hand out
    /// credentials (creating an API token) ask first rather than wait for the next check.
    /// </summary>
    public async Task<bool> IsCurrentAsync()
    {
        var userId = _userId;
        if (userId is null)
            return false;
        var current = (await GetAuthenticationStateAsync()).User;
        if (current.Identity?.IsAuthenticated != true)
            return false;
        await using var scope = _scopes.CreateAsyncScope();
        var sessions = scope.ServiceProvider.GetRequiredService<SessionCheck>();
        if (await sessions.IsCurrentAsync(userId, current.FindFirstValue(SessionCheck.StampClaim), _stop.Token))
            return true;
        _logger.LogInformation("The credentials of user {UserId} changed; ending the open session", userId);
        SetAuthenticationState(Task.FromResult(new AuthenticationState(new ClaimsPrincipal(new ClaimsIdentity()))));
        return false;
    }

    public void Dispose()
    {
        // Registered as itself and as AuthenticationStateProvider: the scope disposes it twice.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
        _stop.Cancel();
        _stop.Dispose();
        _subscription.Dispose();
        AuthenticationStateChanged -= OnChanged;
    }
}

/// <summary>Starts <see cref="LiveAuthenticationStateProvider.Watch"/> when a circuit opens.</summary>
internal sealed class LiveAuthenticationCircuitHandler(LiveAuthenticationStateProvider auth) : CircuitHandler
{
    public override Task OnCircuitOpenedAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        auth.Watch();
        return Task.CompletedTask;
    }
}

internal static class LiveAuthentication
{
    /// <summary>The circuit's user, ended when their credentials change (also available as itself, for pages that ask).</summary>
    public static IServiceCollection AddLiveAuthentication(this IServiceCollection services)
    {
        services.AddScoped<LiveAuthenticationStateProvider>();
        services.AddScoped<AuthenticationStateProvider>(sp => sp.GetRequiredService<LiveAuthenticationStateProvider>());
        services.AddScoped<CircuitHandler, LiveAuthenticationCircuitHandler>();
        return services;
    }
}
