using ConnectiveOne.Core.Outbound;

namespace ConnectiveOne.Tests.Outbound;

[Trait("Database", "Unused")] // touches no database: runs in the SQLite pass only
public sealed class RetryScheduleTests
{
    private static readonly DateTimeOffset Created = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(1, 0, 1)]       // first failure right away: 1 minute
    [InlineData(2, 1, 5)]
    [InlineData(3, 6, 15)]
    [InlineData(4, 21, 60)]
    [InlineData(9, 600, 60)]    // the last delay repeats
    public void Delays_grow_then_repeat_the_last(int failedAttempts, int minutesSinceCreated, int expectedDelayMinutes)
    {
        Assert.True(RetrySchedule.TryParse("00:01:00,00:05:00,00:15:00,01:00:00", TimeSpan.FromHours(48), out var schedule));
        var now = Created.AddMinutes(minutesSinceCreated);

        Assert.Equal(now.AddMinutes(expectedDelayMinutes), schedule.NextAttempt(failedAttempts, Created, now));
    }

    [Fact]
    public void Gives_up_when_the_next_attempt_would_be_past_the_limit()
    {
        Assert.True(RetrySchedule.TryParse("01:00:00", TimeSpan.FromHours(48), out var schedule));

        Assert.NotNull(schedule.NextAttempt(47, Created, Created.AddHours(47)));
        Assert.Null(schedule.NextAttempt(48, Created, Created.AddHours(47).AddMinutes(1)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("soon")]
    [InlineData("00:01:00,-00:01:00")]
    public void Rejects_unusable_settings(string value) =>
        Assert.False(RetrySchedule.TryParse(value, TimeSpan.FromHours(48), out _));

    [Theory]
    [InlineData("Printer on fire", 7, "Re: Printer on fire [#7]")]
    [InlineData("Re: Printer on fire", 7, "Re: Printer on fire [#7]")]
    [InlineData("RE: AW: Printer on fire [#7]", 7, "Re: Printer on fire [#7]")]
    [InlineData("Printer on fire [#7]", 7, "Re: Printer on fire [#7]")]
    [InlineData("", 12, "Re: [#12]")]
    public void Reply_subjects_are_never_doubled(string subject, long ticket, string expected) =>
        Assert.Equal(expected, ReplySubject.For(subject, ticket));
}
