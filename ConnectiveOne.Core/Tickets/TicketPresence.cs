using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace ConnectiveOne.Core.Tickets;

/// <summary>Someone with a ticket open; <see cref="Typing"/> while they write a reply.</summary>
public sealed record Viewer(string UserId, string Name, bool Typing);

/// <summary>
/// Who has which ticket open and who is typing, across every open inbox of this instance (in memory: it is
/// about the next few seconds, not history). Each open page holds a lease; typing expires by itself, so a
/// closed tab or a lost connection does not leave a ghost "is typing".
/// </summary>
public sealed class TicketPresence(TimeProvider clock)
{
    /// <summary>How long "is typing" lasts after the last keystroke.</summary>
    public static readonly TimeSpan TypingFor = TimeSpan.FromSeconds(6);

    private sealed record Lease(long TicketId, string UserId, string Name, DateTimeOffset? TypingUntil);

    private readonly ConcurrentDictionary<Guid, Lease> _leases = new();

    /// <summary>Raised with the ticket id whenever its viewers change.</summary>
    public event Action<long>? Changed;

    /// <summary>Marks a page (<paramref name="session"/>) as viewing a ticket; replaces what it viewed before.</summary>
    public void View(Guid session, long ticketId, string userId, string name)
    {
        var previous = _leases.TryGetValue(session, out var old) ? old : null;
        _leases[session] = new Lease(ticketId, userId, name, null);
        if (previous is not null && previous.TicketId != ticketId)
            Changed?.Invoke(previous.TicketId);
        Changed?.Invoke(ticketId);
    }

    /// <summary>The page typed in the reply box just now.</summary>
    public void Typed(Guid session)
    {
        if (!_leases.TryGetValue(session, out var lease))
            return;
        var wasTyping = IsTyping(lease);
        _leases[session] = lease with { TypingUntil = clock.GetUtcNow() + TypingFor };
        if (!wasTyping)
            Changed?.Invoke(lease.TicketId);
    }

    /// <summary>The page sent its reply or cleared the box.</summary>
    public void StoppedTyping(Guid session)
    {
        if (_leases.TryGetValue(session, out var lease) && lease.TypingUntil is not null)
        {
            _leases[session] = lease with { TypingUntil = null };
            Changed?.Invoke(lease.TicketId);
        }
    }

    /// <summary>The page closed or moved away from tickets.</summary>
    public void Leave(Guid session)
    {
        if (_leases.TryRemove(session, out var lease))
            Changed?.Invoke(lease.TicketId);
    }

    /// <summary>Everyone on the ticket, one entry per person (typing if any of their pages types).</summary>
    public ImmutableList<Viewer> ViewersOf(long ticketId) =>
        _leases.Values.Where(l => l.TicketId == ticketId)
            .GroupBy(l => l.UserId)
            .Select(g => new Viewer(g.Key, g.First().Name, g.Any(IsTyping)))
            .OrderBy(v => v.Name, StringComparer.OrdinalIgnoreCase)
            .ToImmutableList();

    /// <summary>Ends typing that ran out; call every few seconds. Returns the tickets that changed.</summary>
    public IReadOnlyList<long> Expire()
    {
        var changed = new List<long>();
        foreach (var (session, lease) in _leases)
        {
            if (lease.TypingUntil is { } until && until <= clock.GetUtcNow()
                && _leases.TryUpdate(session, lease with { TypingUntil = null }, lease))
                changed.Add(lease.TicketId);
        }
        foreach (var ticketId in changed.Distinct())
            Changed?.Invoke(ticketId);
        return changed;
    }

    private bool IsTyping(Lease lease) => lease.TypingUntil is { } until && until > clock.GetUtcNow();
}
