using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Core.Tickets;

/// <summary>How many routed tickets are in each status, for the counts in the navigation.</summary>
public sealed record StatusCounts(int Open, int Pending, int Resolved)
{
    /// <summary>Snoozed tickets (whatever their status); the other counts leave them out, as the inbox's tabs do.</summary>
    public int Snoozed { get; init; }
}

/// <summary>
/// Counts per status, shared by every open inbox: recounted at most once a second however many tickets
/// arrive and however many pages show the counts, so a burst of mail does not turn into a burst of queries.
/// </summary>
public sealed class TicketCounts : IDisposable
{
    /// <summary>The shortest time between two recounts.</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(1);
    private readonly SemaphoreSlim _gate = new(1, 1);
    // Every change bumps the version; a count is current while no change came after the moment it started.
    // (A flag cleared at the start of a recount let callers take the old counts while that recount ran.)
    private long _version;
    private volatile Count? _last;
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
                Interlocked.Increment(ref _version);
        });
    }

    /// <summary>Tickets changed since the last count (the next <see cref="GetAsync"/> after the interval recounts).</summary>
    public bool IsStale => _last is not { } last || last.Version != Interlocked.Read(ref _version);

    /// <summary>
    /// The counts: the last ones while they are current or younger than <see cref="MinInterval"/> (then
    /// <see cref="IsStale"/> tells the caller to ask again after the interval), otherwise a recount.
    /// </summary>
    public async Task<StatusCounts> GetAsync(CancellationToken ct = default)
    {
        if (Usable() is { } fresh)
            return fresh;
        await _gate.WaitAsync(ct);
        try
        {
            if (Usable() is { } counted)
                return counted;
            var version = Interlocked.Read(ref _version);
            await using var scope = _scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var rows = await db.Tickets.AsNoTracking().Where(t => t.BotId != null)
                .GroupBy(t => t.Status).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(ct);
            // Snoozed ones apart, through the (SnoozedUntil) index: few rows, and the count above stays an index-only read.
            var snoozed = await db.Tickets.AsNoTracking().Where(t => t.SnoozedUntil != null && t.BotId != null)
                .GroupBy(t => t.Status).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(ct);
            int Of(TicketStatus s) => (rows.FirstOrDefault(r => r.Key == s)?.Count ?? 0) - (snoozed.FirstOrDefault(r => r.Key == s)?.Count ?? 0);
            var counts = new StatusCounts(Of(TicketStatus.Open), Of(TicketStatus.Pending), Of(TicketStatus.Resolved))
            {
                Snoozed = snoozed.Where(r => r.Key != TicketStatus.Merged).Sum(r => r.Count),
            };
            _last = new Count(counts, _clock.GetUtcNow(), version);
            return counts;
        }
        finally
        {
            _gate.Release();
        }
    }

    private StatusCounts? Usable() =>
        _last is { } last && (last.Version == Interlocked.Read(ref _version) || _clock.GetUtcNow() - last.At < MinInterval)
            ? last.Counts
            : null;

    private sealed record Count(StatusCounts Counts, DateTimeOffset At, long Version);

    public void Dispose()
    {
        _subscription.Dispose();
        _gate.Dispose();
    }
}
