namespace ConnectiveOne.Core.Dns;

/// <summary>Intervals of the background re-check (<c>ConnectiveOne:Dns:Recheck</c>); tests shorten them.</summary>
public sealed class RecheckOptions
{
    /// <summary>Pending and Failed domains: this often during <see cref="FastPeriod"/> after a change.</summary>
    public TimeSpan FastInterval { get; set; } = TimeSpan.FromMinutes(1);
    public TimeSpan FastPeriod { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Then this often until <see cref="SlowPeriod"/> after the change.</summary>
    public TimeSpan SlowInterval { get; set; } = TimeSpan.FromMinutes(10);
    public TimeSpan SlowPeriod { get; set; } = TimeSpan.FromHours(48);

    /// <summary>After <see cref="SlowPeriod"/>: this often, with a "still not found" hint.</summary>
    public TimeSpan LateInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Verified domains: a removed record is noticed within this time.</summary>
    public TimeSpan VerifiedInterval { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How often the worker looks for due domains.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Domains checked at the same time.</summary>
    public int Parallelism { get; set; } = 64;

    /// <summary>Domains loaded and saved per database round trip.</summary>
    public int BatchSize { get; set; } = 500;
}

/// <summary>Pure: when a domain is checked next, and whether it has waited long enough to deserve a hint.</summary>
public static class RecheckSchedule
{
    public static DateTimeOffset NextCheckAt(DomainStatus status, DateTimeOffset statusChangedAt, DateTimeOffset now, RecheckOptions options)
    {
        if (status == DomainStatus.Verified)
            return now + options.VerifiedInterval;
        var since = now - statusChangedAt;
        var interval = since < options.FastPeriod ? options.FastInterval
            : since < options.SlowPeriod ? options.SlowInterval
            : options.LateInterval;
        return now + interval;
    }

    /// <summary>True when a domain has been Pending or Failed for longer than the slow period (48 hours by default).</summary>
    public static bool IsOverdue(DomainStatus status, DateTimeOffset statusChangedAt, DateTimeOffset now, RecheckOptions options) =>
        status != DomainStatus.Verified && now - statusChangedAt >= options.SlowPeriod;
}
