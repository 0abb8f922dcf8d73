using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace ConnectiveOne.Core.Tickets;

/// <summary>Someone with a ticket open; <see cref="Typing"/> while they write a reply.</summary>
public sealed record Viewer(string UserId, string Name, bool Typing);

/// <summary>
/// One page's presence as it travels between nodes: what it views (null once it left) and until when it types.
/// </summary>
public sealed record PresenceNote(Guid Session, long? TicketId, string UserId, string Name, DateTimeOffset? TypingUntil);

/// <summary>
/// Who has which ticket open and who is typing, across every open inbox (in memory: it is about the next few
/// seconds, not history). Each open page holds a lease; typing expires by itself, so a closed tab or a lost
/// connection does not leave a ghost "is typing". With several nodes, pages on other nodes arrive as
/// <see cref="PresenceNote"/>s and vanish unless their node repeats them within <see cref="RemoteFor"/>, so a dead
/// node's viewers disappear.
/// </summary>
public sealed class TicketPresence(TimeProvider clock)
{
    /// <summary>How long "is typing" lasts after the last keystroke.</summary>
    public static readonly TimeSpan TypingFor = TimeSpan.FromSeconds(6);

    /// <summary>How long a page on another node stays present without being repeated by its node.</summary>
    public static readonly TimeSpan RemoteFor = TimeSpan.FromSeconds(30);

    private sealed record Lease(long TicketId, string UserId, string Name, DateTimeOffset? TypingUntil);

    private sealed record RemoteLease(Lease Lease, DateTimeOffset Until);

    private readonly ConcurrentDictionary<Guid, Lease> _leases = new();
    private readonly ConcurrentDictionary<Guid, RemoteLease> _remote = new();

    /// <summary>Raised with the ticket id whenever its viewers change.</summary>
    public event Action<long>? Changed;

    /// <summary>Raised when a page of this node changes its presence, for the other nodes.</summary>
    public event Action<PresenceNote>? ChangedHere;

    /// <summary>Marks a page (<paramref name="session"/>) as viewing a ticket; replaces what it viewed before.</summary>
    public void View(Guid session, long ticketId, string userId, string name)
    {
        var previous = _leases.TryGetValue(session, out var old) ? old : null;
        var lease = new Lease(ticketId, userId, name, null);
        _leases[session] = lease;
        if (previous is not null && previous.TicketId != ticketId)
            Changed?.Invoke(previous.TicketId);
        Changed?.Invoke(ticketId);
        Announce(session, lease);
    }

    /// <summary>The page typed in the reply box just now.</summary>
    public void Typed(Guid session)
    {
        if (!_leases.TryGetValue(session, out var lease))
            return;
        var wasTyping = IsTyping(lease);
        var typing = lease with { TypingUntil = clock.GetUtcNow() + TypingFor };
        _leases[session] = typing;
        if (!wasTyping)
        {
            Changed?.Invoke(lease.TicketId);
            Announce(session, typing);
        }
    }

    /// <summary>The page sent its reply or cleared the box.</summary>
    public void StoppedTyping(Guid session)
    {
        if (_leases.TryGetValue(session, out var lease) && lease.TypingUntil is not null)
        {
            var stopped = lease with { TypingUntil = null };
            _leases[session] = stopped;
            Changed?.Invoke(lease.TicketId);
            Announce(session, stopped);
        }
    }

    /// <summary>The page closed or moved away from tickets.</summary>
    public void Leave(Guid session)
    {
        if (_leases.TryRemove(session, out var lease))
        {
            Changed?.Invoke(lease.TicketId);
            ChangedHere?.Invoke(new PresenceNote(session, null, lease.UserId, lease.Name, null));
        }
    }

    /// <summary>Everyone on the ticket, on any node, one entry per person (typing if any of their pages types).</summary>
    public ImmutableList<Viewer> ViewersOf(long ticketId)
    {
        var now = clock.GetUtcNow();
        return _leases.Values
            .Concat(_remote.Values.Where(r => r.Until > now).Select(r => r.Lease))
            .Where(l => l.TicketId == ticketId)
            .GroupBy(l => l.UserId)
            .Select(g => new Viewer(g.Key, g.First().Name, g.Any(IsTyping)))
            .OrderBy(v => v.Name, StringComparer.OrdinalIgnoreCase)
            .ToImmutableList();
    }

    /// <summary>
    /// Everyone on every ticket, as <see cref="ViewersOf"/> gives it per ticket: what a page that opens now starts from
    /// before it follows <see cref="Changed"/> (subscribe first, then read, so no change falls in between).
    /// </summary>
    public ImmutableDictionary<long, ImmutableList<Viewer>> Snapshot()
    {
        var now = clock.GetUtcNow();
        return _leases.Values
            .Concat(_remote.Values.Where(r => r.Until > now).Select(r => r.Lease))
            .Select(l => l.TicketId)
            .Distinct()
            .ToImmutableDictionary(id => id, ViewersOf);
    }

    /// <summary>Every page of this node, for repeating to the other nodes.</summary>
    public IReadOnlyList<PresenceNote> Here() =>
        _leases.Select(p => Note(p.Key, p.Value)).ToList();

    /// <summary>A page on another node viewed, typed or left.</summary>
    public void ApplyFromOtherNode(PresenceNote note)
    {
        long? before = _remote.TryGetValue(note.Session, out var old) ? old.Lease.TicketId : null;
        if (note.TicketId is not { } ticketId)
        {
            if (_remote.TryRemove(note.Session, out _) && before is { } left)
                Changed?.Invoke(left);
            return;
        }
        var lease = new Lease(ticketId, note.UserId, note.Name, note.TypingUntil);
        _remote[note.Session] = new RemoteLease(lease, clock.GetUtcNow() + RemoteFor);
        // A repeat of what is known already changes nothing for the pages.
        if (old?.Lease == lease)
            return;
        if (before is { } previous && previous != ticketId)
            Changed?.Invoke(previous);
        Changed?.Invoke(ticketId);
    }

    /// <summary>
    /// Ends typing that ran out and forgets pages of other nodes that were not repeated in time; call every few
    /// seconds. Returns the tickets that changed.
    /// </summary>
    public IReadOnlyList<long> Expire()
    {
        var now = clock.GetUtcNow();
        var changed = new List<long>();
        foreach (var (session, lease) in _leases)
        {
            if (lease.TypingUntil is { } until && until <= now
                && _leases.TryUpdate(session, lease with { TypingUntil = null }, lease))
                changed.Add(lease.TicketId);
        }
        foreach (var (session, remote) in _remote)
        {
            if (remote.Until <= now && _remote.TryRemove(new KeyValuePair<Guid, RemoteLease>(session, remote)))
                changed.Add(remote.Lease.TicketId);
            else if (remote.Lease.TypingUntil is { } until && until <= now
                && _remote.TryUpdate(session, remote with { Lease = remote.Lease with { TypingUntil = null } }, remote))
                changed.Add(remote.Lease.TicketId);
        }
        foreach (var ticketId in changed.Distinct())
            Changed?.Invoke(ticketId);
        return changed;
    }

    private void Announce(Guid session, Lease lease) => ChangedHere?.Invoke(Note(session, lease));

    private static PresenceNote Note(Guid session, Lease lease) =>
        new(session, lease.TicketId, lease.UserId, lease.Name, lease.TypingUntil);

    private bool IsTyping(Lease lease) => lease.TypingUntil is { } until && until > clock.GetUtcNow();
}
