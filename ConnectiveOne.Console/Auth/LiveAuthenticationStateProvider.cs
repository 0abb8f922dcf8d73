using System.Security.Claims;
using ConnectiveOne.Core.Accounts;
using ConnectiveOne.Core.Events;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Identity;

namespace ConnectiveOne.Console.Auth;

/// <summary>
/// The signed-in user of one circuit, re-read from the database when the user changes (role, deactivation)
/// and every 30 seconds as a safety net: a demoted admin's open page loses admin rights at once, and a
/// deactivated user is signed out of it. Identity's revalidating provider only signs out; this one also
/// narrows rights without a new sign-in.
/// </summary>
internal sealed class LiveAuthenticationStateProvider : ServerAuthenticationStateProvider, IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);
    private readonly IServiceScopeFactory _scopes;
    private readonly ILogger<LiveAuthenticationStateProvider> _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly IDisposable _subscription;
    private string? _userId;
    private bool _loopStarted;

    public LiveAuthenticationStateProvider(IServiceScopeFactory scopes, ChangeNotifier notifier,
        ILogger<LiveAuthenticationStateProvider> logger)
    {
        _scopes = scopes;
        _logger = logger;
        _subscription = notifier.Subscribe(change =>
        {
            if (change.Kind == ChangeKind.UserChanged && change.Id == _userId)
                _ = RefreshSafelyAsync();
        });
        AuthenticationStateChanged += OnChanged;
    }

    private void OnChanged(Task<AuthenticationState> state) => _ = TrackAsync(state);

    private async Task TrackAsync(Task<AuthenticationState> state)
    {
        var user = (await state).User;
        _userId = user.Identity?.IsAuthenticated == true ? user.FindFirstValue(ClaimTypes.NameIdentifier) : null;
        if (_userId is not null && !_loopStarted)
        {
            _loopStarted = true;
            _ = LoopAsync();
        }
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
                await RefreshSafelyAsync();
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RefreshSafelyAsync()
    {
        try
        {
            await RefreshAsync();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.LogWarning(ex, "Could not re-check the signed-in user {UserId}", _userId);
        }
    }

    private async Task RefreshAsync()
    {
        if (_userId is null)
            return;
        var current = (await GetAuthenticationStateAsync()).User;
        await using var scope = _scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var user = await users.FindByIdAsync(_userId);
        ClaimsPrincipal next;
        if (user is null || !user.IsActive)
            next = new ClaimsPrincipal(new ClaimsIdentity());
        else
        {
            var fresh = await scope.ServiceProvider.GetRequiredService<IUserClaimsPrincipalFactory<AppUser>>().CreateAsync(user);
            if (SameRoles(current, fresh))
                return;
            next = fresh;
        }
        _logger.LogInformation("Rights of user {UserId} changed; updating the open session", _userId);
        SetAuthenticationState(Task.FromResult(new AuthenticationState(next)));
    }

    private static bool SameRoles(ClaimsPrincipal a, ClaimsPrincipal b) =>
        a.FindAll(ClaimTypes.Role).Select(c => c.Value).Order().SequenceEqual(b.FindAll(ClaimTypes.Role).Select(c => c.Value).Order());

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
        _subscription.Dispose();
        AuthenticationStateChanged -= OnChanged;
    }
}
