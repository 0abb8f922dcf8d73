using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Core.Accounts;

/// <summary>
/// Wrong passwords counted per email address and client address, with an exponential wait once there are too many.
/// Keyed by the pair, so a guesser elsewhere cannot lock the admin out, and by the email as typed (known or not), so
/// a wait says nothing about whether the account exists. Kept in memory: each node counts its own attempts, and a
/// restart forgives; the per-address rate limit still bounds how fast anyone can guess.
/// </summary>
public sealed class SignInBackoff(IOptions<ConnectiveOneOptions> options, TimeProvider clock)
{
    /// <summary>The longest wait, however many wrong passwords.</summary>
    public static readonly TimeSpan MaxLockout = TimeSpan.FromDays(1);

    /// <summary>A pair with no wrong password for this long starts again from zero.</summary>
    private static readonly TimeSpan ForgetAfter = TimeSpan.FromDays(1);

    /// <summary>Above this many pairs, unlocked ones quiet for an hour are swept out (at most once a minute).</summary>
    private const int SweepAbove = 10_000;

    private long _lastSweepTicks;

    private readonly ConcurrentDictionary<(string Account, string Address), Failures> _pairs = new();

    private readonly record struct Failures(int Count, DateTimeOffset Last, DateTimeOffset LockedUntil);

    /// <summary>How long a pair waits after its <paramref name="failures"/>th wrong password (zero: it may try again).</summary>
    public static TimeSpan LockoutAfter(int failures, int allowed, TimeSpan first)
    {
        if (failures < allowed)
            return TimeSpan.Zero;
        var doublings = Math.Min(failures - allowed, 30);
        var wait = first * Math.Pow(2, doublings);
        return wait > MaxLockout ? MaxLockout : wait;
    }

    public bool IsLockedOut(string account, string? address) =>
        _pairs.TryGetValue(Key(account, address), out var pair) && pair.LockedUntil > clock.GetUtcNow();

    /// <summary>Counts a wrong password; attempts refused during a wait are not counted, so waiting always helps.</summary>
    public void RecordFailure(string account, string? address)
    {
        var now = clock.GetUtcNow();
        var settings = options.Value;
        _pairs.AddOrUpdate(Key(account, address),
            _ => Next(0),
            (_, pair) => pair.LockedUntil > now ? pair : Next(now - pair.Last > ForgetAfter ? 0 : pair.Count));
        if (_pairs.Count > SweepAbove)
            Sweep(now);

        Failures Next(int count) =>
            new(count + 1, now, now + LockoutAfter(count + 1, settings.SignInFailuresBeforeLockout, settings.SignInLockout));
    }

    /// <summary>The right password, outside a wait: the pair starts again from zero.</summary>
    public void Reset(string account, string? address) => _pairs.TryRemove(Key(account, address), out _);

    private void Sweep(DateTimeOffset now)
    {
        var last = Interlocked.Read(ref _lastSweepTicks);
        if (now.UtcTicks - last < TimeSpan.TicksPerMinute || Interlocked.CompareExchange(ref _lastSweepTicks, now.UtcTicks, last) != last)
            return;
        foreach (var (key, pair) in _pairs)
            if (pair.LockedUntil <= now && now - pair.Last > TimeSpan.FromHours(1))
                _pairs.TryRemove(key, out _);
    }

    private static (string, string) Key(string account, string? address) =>
        (account.Trim().ToUpperInvariant(), address ?? "unknown");
}
