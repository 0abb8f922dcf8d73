using ConnectiveOne.Core.Dns;

namespace ConnectiveOne.Tests.Dns;

/// <summary>The status rules when a check result is applied to a stored domain, and the re-check schedule.</summary>
[Trait("Database", "Unused")] // touches no database: runs in the SQLite pass only
public sealed class DomainCheckOutcomeTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    private static readonly RecheckOptions Schedule = new();

    private static MailDomain Domain(DomainStatus status, DateTimeOffset? verifiedAt = null) => new()
    {
        Name = "acme.test",
        VerificationToken = "tok",
        Status = status,
        StatusChangedAt = Now.AddHours(-1),
        VerifiedAt = verifiedAt,
    };

    private static CheckedRecord Record(RecordStatus status, bool required = true) =>
        new(RecordPurpose.Dkim, required, "TXT", "k1._domainkey.acme.test", "v=DKIM1; k=rsa; p=x", [], status, "hint");

    private static DomainCheckResult Result(DomainStatus status, bool noAnswer, params CheckedRecord[] records) =>
        new("acme.test", status, Now, records, noAnswer, "");

    [Fact]
    public void A_dns_outage_does_not_demote_a_verified_domain()
    {
        var domain = Domain(DomainStatus.Verified, Now.AddDays(-1));

        var changed = DomainCheckOutcome.Apply(domain, Result(DomainStatus.Pending, true, Record(RecordStatus.NoAnswer)), Now, Schedule);

        Assert.False(changed);
        Assert.Equal(DomainStatus.Verified, domain.Status);
        Assert.Contains("did not answer", DomainCheckOutcome.View(domain, Now, Schedule).Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dns_outage_keeps_pending_even_when_another_record_looks_wrong()
    {
        var domain = Domain(DomainStatus.Pending);

        DomainCheckOutcome.Apply(domain, Result(DomainStatus.Failed, true, Record(RecordStatus.Wrong), Record(RecordStatus.NoAnswer)), Now, Schedule);

        Assert.Equal(DomainStatus.Pending, domain.Status);
    }

    [Fact]
    public void A_record_removed_from_a_verified_domain_fails_it_and_says_so()
    {
        var domain = Domain(DomainStatus.Verified, Now.AddDays(-1));

        var changed = DomainCheckOutcome.Apply(domain, Result(DomainStatus.Pending, false, Record(RecordStatus.Missing)), Now, Schedule);

        Assert.True(changed);
        Assert.Equal(DomainStatus.Failed, domain.Status);
        Assert.Equal(Now, domain.StatusChangedAt);
        var view = DomainCheckOutcome.View(domain, Now, Schedule);
        Assert.Equal(DomainCheckOutcome.RemovedHint, view.Records.Single().Hint);
        Assert.Contains("gone from DNS", view.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void A_never_verified_domain_with_missing_records_stays_pending()
    {
        var domain = Domain(DomainStatus.Pending);

        var changed = DomainCheckOutcome.Apply(domain, Result(DomainStatus.Pending, false, Record(RecordStatus.Missing)), Now, Schedule);

        Assert.False(changed);
        Assert.Equal(DomainStatus.Pending, domain.Status);
        Assert.Equal(Now + Schedule.SlowInterval, domain.NextCheckAt); // an hour after the last change
    }

    [Fact]
    public void Verifying_records_the_time_and_schedules_the_daily_check()
    {
        var domain = Domain(DomainStatus.Pending);

        Assert.True(DomainCheckOutcome.Apply(domain, Result(DomainStatus.Verified, false, Record(RecordStatus.Ok)), Now, Schedule));

        Assert.Equal(Now, domain.VerifiedAt);
        Assert.Equal(Now + TimeSpan.FromDays(1), domain.NextCheckAt);
        Assert.Equal(Now, domain.CheckedAt);
    }

    [Theory]
    [InlineData(DomainStatus.Pending, 0, 1)]
    [InlineData(DomainStatus.Failed, 14, 1)]
    [InlineData(DomainStatus.Pending, 15, 10)]
    [InlineData(DomainStatus.Failed, 47 * 60, 10)]
    [InlineData(DomainStatus.Pending, 48 * 60, 60)]
    [InlineData(DomainStatus.Pending, 30 * 24 * 60, 60)]
    [InlineData(DomainStatus.Verified, 0, 24 * 60)]
    [InlineData(DomainStatus.Verified, 100 * 24 * 60, 24 * 60)]
    public void Schedule_is_every_minute_then_ten_minutes_then_hourly_and_daily_when_verified(DomainStatus status, int minutesSinceChange, int expectedMinutes)
    {
        var next = RecheckSchedule.NextCheckAt(status, Now.AddMinutes(-minutesSinceChange), Now, Schedule);

        Assert.Equal(TimeSpan.FromMinutes(expectedMinutes), next - Now);
    }

    [Fact]
    public void Still_not_found_after_48_hours_is_said_once_overdue()
    {
        var domain = Domain(DomainStatus.Pending);
        domain.StatusChangedAt = Now.AddHours(-49);
        DomainCheckOutcome.Apply(domain, Result(DomainStatus.Pending, false, Record(RecordStatus.Missing)), Now, Schedule);

        Assert.Contains("Still not found after 48 hours", DomainCheckOutcome.View(domain, Now, Schedule).Hint, StringComparison.Ordinal);
        Assert.Null(DomainCheckOutcome.View(Domain(DomainStatus.Pending), Now, Schedule).Hint);
    }
}
