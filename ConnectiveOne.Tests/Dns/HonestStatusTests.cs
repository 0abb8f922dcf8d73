using ConnectiveOne.Core.Dns;

namespace ConnectiveOne.Tests.Dns;

/// <summary>
/// Issue #18: a domain is Failed only after an attempt (Verify Now, or our own records seen in DNS); what a Verify Now
/// changed, in words; hosts in registrar form; the SPF hint names the record to delete.
/// </summary>
[Trait("Database", "Unused")] // touches no database: runs in the SQLite pass only
public sealed class HonestStatusTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);
    private static readonly RecheckOptions Schedule = new();
    private const string Key = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAz0abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij";

    private static MailDomain Fresh() => new() { Name = "acme.test", VerificationToken = "tok", StatusChangedAt = Now.AddMinutes(-5) };

    private static CheckedRecord Spf(RecordStatus status) =>
        new(RecordPurpose.Spf, true, "TXT", "acme.test", "v=spf1 include:_spf.google.com include:mailgun.org ~all",
            ["v=spf1 include:_spf.google.com ~all"], status, "Your SPF record does not include mailgun.org yet.");

    private static CheckedRecord Verification(params string[] found) =>
        new(RecordPurpose.Verification, true, "TXT", "acme.test", "connectiveone-verification=tok", found,
            found.Length == 0 ? RecordStatus.Missing : RecordStatus.Wrong, null);

    private static CheckedRecord Dkim(RecordStatus status, params string[] found) =>
        new(RecordPurpose.Dkim, true, "TXT", "k1._domainkey.acme.test", $"v=DKIM1; k=rsa; p={Key}", found, status, null);

    private static DomainCheckResult Result(params CheckedRecord[] records) =>
        new("acme.test", DnsRecordMatcher.DomainStatusOf(records), Now, records, false, "");

    [Fact]
    public void A_foreign_spf_record_on_a_fresh_domain_is_pending_in_background_checks_and_fails_after_verify_now()
    {
        var domain = Fresh();
        var result = Result(Verification(), Spf(RecordStatus.Wrong), Dkim(RecordStatus.Missing));
        Assert.Equal(DomainStatus.Failed, result.Status); // what the matcher alone says

        Assert.False(DomainCheckOutcome.Apply(domain, result, Now, Schedule));
        var view = DomainCheckOutcome.View(domain, Now, Schedule);
        Assert.Equal(DomainStatus.Pending, domain.Status);
        Assert.Null(view.AttemptedAt);
        Assert.Equal(RecordStatus.Missing, view.Records.Single(r => r.Purpose == RecordPurpose.Spf).Status);

        Assert.True(DomainCheckOutcome.Apply(domain, result, Now.AddMinutes(1), Schedule, explicitAttempt: true));
        Assert.Equal(DomainStatus.Failed, domain.Status);
        Assert.Equal(Now.AddMinutes(1), DomainCheckOutcome.View(domain, Now, Schedule).AttemptedAt);

        // Once attempted, background checks judge too.
        Assert.False(DomainCheckOutcome.Apply(domain, result, Now.AddMinutes(2), Schedule));
        Assert.Equal(DomainStatus.Failed, domain.Status);
    }

    [Theory]
    [InlineData("verification record with another token")]
    [InlineData("truncated DKIM key")]
    public void A_background_check_that_finds_our_own_records_counts_as_an_attempt(string published)
    {
        var domain = Fresh();
        var result = published.StartsWith("verification", StringComparison.Ordinal)
            ? Result(Verification("connectiveone-verification=old"), Spf(RecordStatus.Wrong), Dkim(RecordStatus.Missing))
            : Result(Verification(), Spf(RecordStatus.Ok), Dkim(RecordStatus.Wrong, $"v=DKIM1; k=rsa; p={Key[..100]}"));

        Assert.True(DomainCheckOutcome.Apply(domain, result, Now, Schedule));

        Assert.Equal(DomainStatus.Failed, domain.Status);
    }

    [Fact]
    public void Someone_elses_dkim_key_at_k1_is_not_an_attempt()
    {
        var domain = Fresh();
        var other = "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAzZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ";

        DomainCheckOutcome.Apply(domain, Result(Verification(), Spf(RecordStatus.Ok), Dkim(RecordStatus.Wrong, other)), Now, Schedule);

        Assert.Equal(DomainStatus.Pending, domain.Status);
    }

    [Fact]
    public void Verify_now_says_what_was_found_and_what_is_still_missing()
    {
        IReadOnlyList<CheckedRecord> before = [Verification(), Spf(RecordStatus.Missing), Dkim(RecordStatus.Missing)];
        IReadOnlyList<CheckedRecord> after = [Verification(), Spf(RecordStatus.Missing), Dkim(RecordStatus.Ok)];

        Assert.Equal("DKIM (k1) found, verification record still missing, SPF still missing.", CheckChanges.Describe(before, after));
        Assert.Equal("Nothing changed: verification record still missing, SPF still missing.", CheckChanges.Describe(after, after));
        Assert.Equal("DKIM (k1) found, verification record missing, SPF missing.", CheckChanges.Describe([], after));
        Assert.Equal("SPF found but wrong, verification record still missing, DKIM (k1) still missing.",
            CheckChanges.Describe(before, [Verification(), Spf(RecordStatus.Wrong), Dkim(RecordStatus.Missing)]));
        var verified = Verification() with { Status = RecordStatus.Ok };
        Assert.Equal("DKIM (k1) gone.", CheckChanges.Describe(
            [verified, Spf(RecordStatus.Ok), Dkim(RecordStatus.Ok)], [verified, Spf(RecordStatus.Ok), Dkim(RecordStatus.Missing)]));
    }

    [Theory]
    [InlineData("acme.com", "@")]
    [InlineData("k1._domainkey.acme.com", "k1._domainkey")]
    [InlineData("_dmarc.acme.com.", "_dmarc")]
    [InlineData("_dmarc.other.com", "_dmarc.other.com")]
    public void Hosts_are_shown_relative_to_the_zone(string host, string relative) =>
        Assert.Equal(relative, DnsRecordPlanner.RelativeHost(host, "acme.com"));

    [Fact]
    public void Two_spf_records_are_merged_keeping_the_first_ones_qualifier_and_order_and_the_hint_names_the_one_to_delete()
    {
        var settings = new DomainDnsSettings("acme.com", "tok", []);
        var apex = TxtLookupResult.Of("v=spf1 include:_spf.google.com ip4:192.0.2.1 ?all", "v=spf1 mx -all");
        var plan = DnsRecordPlanner.PlanSpf(settings, apex);

        var record = DnsRecordMatcher.CheckSpf(
            new PlannedRecord(RecordPurpose.Spf, true, "TXT", "acme.com", plan.Value), apex, plan, settings, null);

        Assert.Equal("v=spf1 include:_spf.google.com ip4:192.0.2.1 mx include:mailgun.org ?all", plan.Value);
        Assert.Contains("replace \"v=spf1 include:_spf.google.com ip4:192.0.2.1 ?all\" with the value shown and delete \"v=spf1 mx -all\".",
            record.Hint, StringComparison.Ordinal);
    }
}
