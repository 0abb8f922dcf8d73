using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Core.Tickets;

/// <summary>How many routed tickets are in each status, for the counts in the navigation.</summary>
public sealed record StatusCounts(int Open, int Pending, int Resolved);

/// <summary>
/// Counts per status, shared by every open inbox: recounted at most once a second however many tickets
/// arrive and however many pages show the counts, so a burst of mail does not turn into a burst of queries.
/// </summary>
public sealed class TicketCounts : IDisposable
{
    /// <summary>The shortest time between two recounts.</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(1);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private StatusCounts? _counts;
    private DateTimeOffset _countedAt;
    private volatile bool _stale = true;
    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _clock;
    private readonly IDisposable _subscription;

    public TicketCounts(IServiceScopeFactory scopes, TimeProvider clock, ChangeNotifier notifier)
    {
        _scopes = scopes;
        _clock = clock;
        _subscription = notifier.Subscribe(change =>
        {
            if (change.Kind is ChangeKind.TicketCreated or ChangeKind.TicketUpdated)
                _stale = true;
        });
    }

    /// <summary>Tickets changed since the last count (the next <see cref="GetAsync"/> after the interval recounts).</summary>
    public bool IsStale => _stale;

    public async Task<StatusCounts> GetAsync(CancellationToken ct = default)
    {
        if (_counts is { } fresh && (!_stale || _clock.GetUtcNow() - _countedAt < MinInterval))
            return fresh;
        await _gate.WaitAsync(ct);
        try
        {
            if (_counts is { } counted && (!_stale || _clock.GetUtcNow() - _countedAt < MinInterval))
                return counted;
            _stale = false;
            await using var scope = _scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var rows = await db.Tickets.AsNoTracking().Where(t => t.BotId != null)
                .GroupBy(t => t.Status).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(ct);
            int Of(TicketStatus s) => rows.FirstOrDefault(r => r.Key == s)?.Count ?? 0;
            _counts = new StatusCounts(Of(TicketStatus.Open), Of(TicketStatus.Pending), Of(TicketStatus.Resolved));
            _countedAt = _clock.GetUtcNow();
            return _counts;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _subscription.Dispose();
        _gate.Dispose();
    }
}
