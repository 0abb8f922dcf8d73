using System.Globalization;

namespace ConnectiveOne.Core.Outbound;

/// <summary>When to try a temporarily failed mail again, and when to give up. Pure; built from configuration.</summary>
public sealed class RetrySchedule
{
    private readonly TimeSpan[] _delays;

    public RetrySchedule(IReadOnlyList<TimeSpan> delays, TimeSpan giveUpAfter)
    {
        if (delays.Count == 0 || delays.Any(d => d < TimeSpan.Zero))
            throw new ArgumentException("At least one retry delay, none negative.", nameof(delays));
        _delays = [.. delays];
        GiveUpAfter = giveUpAfter;
    }

    public TimeSpan GiveUpAfter { get; }

    /// <summary>Parses <c>ConnectiveOne:Outbound:RetryDelays</c> (comma-separated TimeSpans such as <c>00:05:00</c>).</summary>
    public static bool TryParse(string? value, TimeSpan giveUpAfter, out RetrySchedule schedule)
    {
        schedule = null!;
        var delays = new List<TimeSpan>();
        foreach (var part in (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!TimeSpan.TryParse(part, CultureInfo.InvariantCulture, out var delay) || delay < TimeSpan.Zero)
                return false;
            delays.Add(delay);
        }
        if (delays.Count == 0 || giveUpAfter <= TimeSpan.Zero)
            return false;
        schedule = new RetrySchedule(delays, giveUpAfter);
        return true;
    }

    /// <summary>
    /// The next attempt after <paramref name="failedAttempts"/> failures (1 = the first try failed), or null when
    /// that would be past <see cref="GiveUpAfter"/> counted from <paramref name="createdAt"/>.
    /// </summary>
    public DateTimeOffset? NextAttempt(int failedAttempts, DateTimeOffset createdAt, DateTimeOffset now)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(failedAttempts);
        var next = now + _delays[Math.Min(failedAttempts, _delays.Length) - 1];
        return next - createdAt > GiveUpAfter ? null : next;
    }
}
