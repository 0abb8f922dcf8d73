using System.Globalization;

namespace ConnectiveOne.Core.Tickets;

/// <summary>One choice of the snooze menu: its label and when it wakes the ticket.</summary>
public sealed record SnoozePreset(string Key, string Label, DateTimeOffset Until);

/// <summary>
/// The snooze menu's times, computed in the operator's time zone (pure: the clock's "now" and the zone come in). The rules,
/// close to Help Scout's and Front's:
/// <list type="bullet">
/// <item><b>Later today</b>: three hours from now, rounded up to the next quarter hour; but never later than 17:00 (the end
/// of a working day) when 17:00 is still at least an hour away. Not offered when that falls on the next day (evening:
/// "tomorrow morning" is the choice then).</item>
/// <item><b>Tomorrow morning</b>: 08:00 the next day.</item>
/// <item><b>Next week</b>: Monday 08:00 of the coming week (on a Monday, the Monday after).</item>
/// <item><b>Custom</b>: a date and time the operator picks, read in their zone (<see cref="AtLocal"/>).</item>
/// </list>
/// Wall-clock times across a daylight-saving change: a time that does not exist (the hour skipped in spring) moves forward
/// by the gap (02:30 becomes 03:30); a time that exists twice (the hour repeated in autumn) is its first occurrence.
/// "Three hours" is elapsed time, so it stays three hours across a change.
/// </summary>
public static class SnoozePresets
{
    public const string LaterToday = "later-today";
    public const string TomorrowMorning = "tomorrow";
    public const string NextWeek = "next-week";

    /// <summary>The hour a morning preset wakes at.</summary>
    public static readonly TimeOnly Morning = new(8, 0);

    /// <summary>The end of the working day that "later today" does not pass (while it is an hour or more away).</summary>
    public static readonly TimeOnly EndOfDay = new(17, 0);

    /// <summary>The latest a snooze can be set, from now (a year: further is a reminder, not a snooze).</summary>
    public static readonly TimeSpan Longest = TimeSpan.FromDays(366);

    /// <summary>The presets that apply at <paramref name="now"/> in <paramref name="zone"/>, soonest first.</summary>
    public static IReadOnlyList<SnoozePreset> For(DateTimeOffset now, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(now, zone);
        var today = DateOnly.FromDateTime(local.DateTime);
        var presets = new List<SnoozePreset>(3);
        if (LaterTodayAt(now, zone) is { } later)
            presets.Add(new SnoozePreset(LaterToday, "Later today", later));
        presets.Add(new SnoozePreset(TomorrowMorning, "Tomorrow morning", AtLocal(today.AddDays(1), Morning, zone)));
        var untilMonday = ((int)DayOfWeek.Monday - (int)today.DayOfWeek + 7) % 7;
        presets.Add(new SnoozePreset(NextWeek, "Next week", AtLocal(today.AddDays(untilMonday == 0 ? 7 : untilMonday), Morning, zone)));
        return presets;
    }

    /// <summary>"Later today" at <paramref name="now"/>, or null when it would fall on the next day.</summary>
    public static DateTimeOffset? LaterTodayAt(DateTimeOffset now, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(now, zone);
        var today = DateOnly.FromDateTime(local.DateTime);
        var inThree = TimeZoneInfo.ConvertTime(now.AddHours(3), zone);
        // Rounded up in local time: zones are whole quarter hours off UTC, so this is a quarter hour in both.
        var rest = inThree.Minute % 15 * TimeSpan.TicksPerMinute + inThree.Ticks % TimeSpan.TicksPerMinute;
        var candidate = rest == 0 ? inThree : inThree.AddTicks(15 * TimeSpan.TicksPerMinute - rest);
        var endOfDay = AtLocal(today, EndOfDay, zone);
        if (candidate > endOfDay && endOfDay - now >= TimeSpan.FromHours(1))
            candidate = endOfDay;
        return DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(candidate, zone).DateTime) == today ? candidate.ToUniversalTime() : null;
    }

    /// <summary>
    /// The moment the wall clock in <paramref name="zone"/> shows <paramref name="date"/> <paramref name="time"/> (see the class
    /// for times a daylight-saving change skips or repeats).
    /// </summary>
    public static DateTimeOffset AtLocal(DateOnly date, TimeOnly time, TimeZoneInfo zone)
    {
        var wall = date.ToDateTime(time, DateTimeKind.Unspecified);
        if (zone.IsInvalidTime(wall))
        {
            // Skipped: the offset before the gap puts it the gap's length later on the clock after it.
            var before = zone.GetUtcOffset(wall.AddHours(-3));
            return new DateTimeOffset(wall, before).ToUniversalTime();
        }
        var offsets = zone.IsAmbiguousTime(wall) ? zone.GetAmbiguousTimeOffsets(wall) : [zone.GetUtcOffset(wall)];
        // The first occurrence is the one with the larger offset (summer time, before the clock goes back).
        return new DateTimeOffset(wall, offsets.Max()).ToUniversalTime();
    }

    /// <summary>The zone with this IANA (or Windows) id, or UTC when it is unknown or missing.</summary>
    public static TimeZoneInfo Zone(string? id)
    {
        if (string.IsNullOrWhiteSpace(id))
            return TimeZoneInfo.Utc;
        return TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone) ? zone : TimeZoneInfo.Utc;
    }

    /// <summary>A wake time for people: "Tue 8 Dec, 08:00" in the zone (with the year when it is not this year's).</summary>
    public static string Describe(DateTimeOffset until, TimeZoneInfo zone, DateTimeOffset now)
    {
        var local = TimeZoneInfo.ConvertTime(until, zone);
        var format = local.Year == TimeZoneInfo.ConvertTime(now, zone).Year ? "ddd d MMM, HH:mm" : "ddd d MMM yyyy, HH:mm";
        return local.ToString(format, CultureInfo.InvariantCulture);
    }

    /// <summary>Why <paramref name="until"/> cannot be a snooze time at <paramref name="now"/>, in words; null when it can.</summary>
    public static string? Problem(DateTimeOffset until, DateTimeOffset now) =>
        until <= now ? $"The snooze time must be in the future: {until.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC has passed (it is {now.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC now)."
        : until - now > Longest ? "A ticket can be snoozed for a year at most."
        : null;
}
