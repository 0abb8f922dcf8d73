using ConnectiveOne.Core.Tickets;
using Microsoft.Extensions.Time.Testing;

namespace ConnectiveOne.Tests.Tickets;

/// <summary>
/// The snooze menu's times (issue #16) in several zones, on ordinary days and across daylight-saving changes, with a fake
/// clock: the expected moments are written out in UTC by hand from the zone rules (Berlin: CET +1 / CEST +2, clocks
/// change 29 Mar 2026 02:00 → 03:00 and 25 Oct 2026 03:00 → 02:00; New York: EST −5 / EDT −4, 8 Mar 2026 02:00 → 03:00;
/// Kolkata +5:30 without any change; Auckland +13 in December).
/// </summary>
[Trait("Database", "Unused")]
public sealed class SnoozePresetsTests
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
    private static readonly TimeZoneInfo Kolkata = TimeZoneInfo.FindSystemTimeZoneById("Asia/Kolkata");
    private static readonly TimeZoneInfo Auckland = TimeZoneInfo.FindSystemTimeZoneById("Pacific/Auckland");

    public static TheoryData<string, string, string?, string, string> Cases => new()
    {
        // zone, now (UTC), later today, tomorrow morning, next week (all UTC)
        // Berlin, Monday 7 Dec 2026 10:21 CET: later today 13:30 (three hours, rounded up to the quarter), tomorrow
        // Tue 08:00 CET, next week Monday 14 Dec (today is Monday: the Monday after).
        { "Europe/Berlin", "2026-12-07T09:21:00Z", "2026-12-07T12:30:00Z", "2026-12-08T07:00:00Z", "2026-12-14T07:00:00Z" },
        // 15:10 CET: three hours would pass 17:00, which is still more than an hour away: 17:00.
        { "Europe/Berlin", "2026-12-07T14:10:00Z", "2026-12-07T16:00:00Z", "2026-12-08T07:00:00Z", "2026-12-14T07:00:00Z" },
        // 16:30 CET: 17:00 is too close; three hours, 19:30, is still today.
        { "Europe/Berlin", "2026-12-07T15:30:00Z", "2026-12-07T18:30:00Z", "2026-12-08T07:00:00Z", "2026-12-14T07:00:00Z" },
        // 22:00 CET: three hours is tomorrow: no "later today".
        { "Europe/Berlin", "2026-12-07T21:00:00Z", null, "2026-12-08T07:00:00Z", "2026-12-14T07:00:00Z" },
        // Sat 28 Mar 2026 20:00 CET: later today 23:00 (17:00 has passed); tomorrow is the spring change, 08:00 there is
        // CEST (+2) = 06:00 UTC; next week's Monday too.
        { "Europe/Berlin", "2026-03-28T19:00:00Z", "2026-03-28T22:00:00Z", "2026-03-29T06:00:00Z", "2026-03-30T06:00:00Z" },
        // Sun 29 Mar 00:30 CET, just before the change: three hours of elapsed time is 04:30 CEST on the clock.
        { "Europe/Berlin", "2026-03-28T23:30:00Z", "2026-03-29T02:30:00Z", "2026-03-30T06:00:00Z", "2026-03-30T06:00:00Z" },
        // Sat 24 Oct 2026 12:00 CEST: tomorrow is the autumn change, 08:00 there is CET (+1) = 07:00 UTC.
        { "Europe/Berlin", "2026-10-24T10:00:00Z", "2026-10-24T13:00:00Z", "2026-10-25T07:00:00Z", "2026-10-26T07:00:00Z" },
        // New York, Sat 7 Mar 2026 09:00 EST: later 12:00 EST; tomorrow (the change) 08:00 EDT = 12:00 UTC.
        { "America/New_York", "2026-03-07T14:00:00Z", "2026-03-07T17:00:00Z", "2026-03-08T12:00:00Z", "2026-03-09T12:00:00Z" },
        // Kolkata, Wed 9 Dec 2026 10:07 IST: 13:15 IST; 08:00 IST is 02:30 UTC; Monday 14 Dec.
        { "Asia/Kolkata", "2026-12-09T04:37:00Z", "2026-12-09T07:45:00Z", "2026-12-10T02:30:00Z", "2026-12-14T02:30:00Z" },
        // Auckland, Sun 13 Dec 2026 09:00 NZDT (+13) is still Saturday in UTC: tomorrow is Monday 14 Dec, and so is next
        // week (the zone's calendar decides, not UTC's, where the next Monday would be the 21st).
        { "Pacific/Auckland", "2026-12-12T20:00:00Z", "2026-12-12T23:00:00Z", "2026-12-13T19:00:00Z", "2026-12-13T19:00:00Z" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Presets_are_computed_on_the_operators_wall_clock(string zoneId, string now, string? laterToday, string tomorrow, string nextWeek)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse(now));
        var presets = SnoozePresets.For(clock.GetUtcNow(), SnoozePresets.Zone(zoneId));

        Assert.Equal(laterToday, presets.SingleOrDefault(p => p.Key == SnoozePresets.LaterToday)?.Until.ToString("yyyy-MM-ddTHH:mm:ssZ"));
        Assert.Equal(tomorrow, presets.Single(p => p.Key == SnoozePresets.TomorrowMorning).Until.ToString("yyyy-MM-ddTHH:mm:ssZ"));
        Assert.Equal(nextWeek, presets.Single(p => p.Key == SnoozePresets.NextWeek).Until.ToString("yyyy-MM-ddTHH:mm:ssZ"));
        Assert.All(presets, p => Assert.Equal(TimeSpan.Zero, p.Until.Offset));
        Assert.All(presets, p => Assert.True(p.Until > clock.GetUtcNow()));
    }

    [Fact]
    public void The_presets_move_with_the_clock()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-07T09:21:00Z"));
        var before = SnoozePresets.For(clock.GetUtcNow(), Berlin);
        clock.Advance(TimeSpan.FromDays(1)); // Tuesday
        var after = SnoozePresets.For(clock.GetUtcNow(), Berlin);

        Assert.Equal(before.Single(p => p.Key == SnoozePresets.TomorrowMorning).Until.AddDays(1), after.Single(p => p.Key == SnoozePresets.TomorrowMorning).Until);
        // From Tuesday, next week is still Monday 14 Dec.
        Assert.Equal(before.Single(p => p.Key == SnoozePresets.NextWeek).Until, after.Single(p => p.Key == SnoozePresets.NextWeek).Until);
    }

    [Fact]
    public void A_custom_time_is_read_on_the_wall_clock_with_skipped_and_repeated_hours_resolved()
    {
        // An ordinary time in each zone.
        Assert.Equal(DateTimeOffset.Parse("2026-12-08T13:00:00Z"), SnoozePresets.AtLocal(new DateOnly(2026, 12, 8), new TimeOnly(14, 0), Berlin));
        Assert.Equal(DateTimeOffset.Parse("2026-12-08T19:00:00Z"), SnoozePresets.AtLocal(new DateOnly(2026, 12, 8), new TimeOnly(14, 0), NewYork));
        Assert.Equal(DateTimeOffset.Parse("2026-12-08T08:30:00Z"), SnoozePresets.AtLocal(new DateOnly(2026, 12, 8), new TimeOnly(14, 0), Kolkata));
        Assert.Equal(DateTimeOffset.Parse("2026-12-08T01:00:00Z"), SnoozePresets.AtLocal(new DateOnly(2026, 12, 8), new TimeOnly(14, 0), Auckland));
        // 02:30 on 29 Mar does not exist in Berlin: it is 03:30 CEST (01:30 UTC), one gap later.
        Assert.Equal(DateTimeOffset.Parse("2026-03-29T01:30:00Z"), SnoozePresets.AtLocal(new DateOnly(2026, 3, 29), new TimeOnly(2, 30), Berlin));
        // 02:30 on 8 Mar does not exist in New York: 03:30 EDT (07:30 UTC).
        Assert.Equal(DateTimeOffset.Parse("2026-03-08T07:30:00Z"), SnoozePresets.AtLocal(new DateOnly(2026, 3, 8), new TimeOnly(2, 30), NewYork));
        // 02:30 on 25 Oct happens twice in Berlin: the first one, CEST (00:30 UTC).
        Assert.Equal(DateTimeOffset.Parse("2026-10-25T00:30:00Z"), SnoozePresets.AtLocal(new DateOnly(2026, 10, 25), new TimeOnly(2, 30), Berlin));
    }

    [Fact]
    public void Times_are_described_in_the_zone_and_bad_ones_in_words()
    {
        var now = DateTimeOffset.Parse("2026-12-07T09:21:00Z");
        Assert.Equal("Tue 8 Dec, 08:00", SnoozePresets.Describe(DateTimeOffset.Parse("2026-12-08T07:00:00Z"), Berlin, now));
        Assert.Equal("Fri 1 Jan 2027, 08:00", SnoozePresets.Describe(DateTimeOffset.Parse("2027-01-01T07:00:00Z"), Berlin, now));
        Assert.Null(SnoozePresets.Problem(now.AddMinutes(1), now));
        Assert.Contains("must be in the future", SnoozePresets.Problem(now.AddMinutes(-1), now));
        Assert.Contains("a year at most", SnoozePresets.Problem(now.AddDays(400), now));
        // A zone the browser names that this server does not know is UTC, not an error.
        Assert.Equal(TimeZoneInfo.Utc, SnoozePresets.Zone("Mars/Olympus_Mons"));
        Assert.Equal(TimeZoneInfo.Utc, SnoozePresets.Zone(""));
    }
}
