using System.Collections.Concurrent;
using System.Security.Claims;
using System.Threading.Channels;
using ConnectiveOne.Console.Auth;
using ConnectiveOne.Core.Accounts;
using ConnectiveOne.Core.Events;
using Microsoft.AspNetCore.SignalR;

namespace ConnectiveOne.Console.Live;

/// <summary>
/// Ends live hub connections whose sign-in no longer stands: a browser's once the user's security stamp changed (new
/// password, sign-out everywhere, role change, deactivation), an integration's once its token is revoked. Checks the
/// user's connections at once on <see cref="ChangeKind.UserChanged"/> (from any node), and all of this node's
/// connections every few seconds as a safety net.
/// </summary>
internal sealed class LiveSessionGuard(ChangeNotifier notifier, IServiceScopeFactory scopes, ILogger<LiveSessionGuard> logger)
    : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(3);
    private readonly ConcurrentDictionary<string, HubCallerContext> _connections = new();
    private readonly Channel<string?> _checks = Channel.CreateUnbounded<string?>(new UnboundedChannelOptions { SingleReader = true });

    public void Connected(HubCallerContext context)
    {
        _connections[context.ConnectionId] = context;
        // Cookies are re-checked only every few seconds: one that just went stale may still have connected.
        _checks.Writer.TryWrite(context.UserIdentifier);
    }

    public void Disconnected(HubCallerContext context) => _connections.TryRemove(context.ConnectionId, out _);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var subscription = notifier.Subscribe(change =>
        {
            if (change.Kind == ChangeKind.UserChanged)
                _checks.Writer.TryWrite(change.Id);
        });
        using var timer = new PeriodicTimer(Interval);
        var tick = TickAsync(timer, stoppingToken);
        await foreach (var userId in _checks.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                // Null: every connection (the periodic sweep).
                await CheckAsync(userId, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Checking the live connections of user {UserId} failed", userId ?? "(all)");
            }
        }
        await tick;
    }

    private async Task TickAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
                _checks.Writer.TryWrite(null);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task CheckAsync(string? userId, CancellationToken ct)
    {
        var connections = _connections.Values.Where(c => userId is null || c.UserIdentifier == userId).ToList();
        if (connections.Count == 0)
            return;
        await using var scope = scopes.CreateAsyncScope();
        var sessions = scope.ServiceProvider.GetRequiredService<SessionCheck>();
        var stamps = await sessions.ActiveStampsAsync(connections.Select(c => c.UserIdentifier ?? "").Distinct().ToList(), ct);
        var tokenIds = connections.Select(TokenId).OfType<Guid>().Distinct().ToList();
        var tokens = tokenIds.Count == 0 ? new HashSet<Guid>() : await sessions.WorkingTokensAsync(tokenIds, ct);
        foreach (var connection in connections)
        {
            var stands = TokenId(connection) is { } tokenId
                ? tokens.Contains(tokenId)
                : connection.UserIdentifier is { } id && stamps.TryGetValue(id, out var stamp) && stamp is not null
                  && stamp == connection.User?.FindFirstValue(SessionCheck.StampClaim);
            if (stands)
                continue;
            logger.LogInformation("Ending live connection {ConnectionId} of user {UserId}: its sign-in no longer stands",
                connection.ConnectionId, connection.UserIdentifier);
            connection.Abort();
            _connections.TryRemove(connection.ConnectionId, out _);
        }
    }

    private static Guid? TokenId(HubCallerContext connection) =>
        Guid.TryParse(connection.User?.FindFirstValue(BearerTokenHandler.TokenIdClaim), out var id) ? id : null;
}
