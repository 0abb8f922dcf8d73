using ConnectiveOne.Core.Dns;

namespace ConnectiveOne.Tests.Dns;

[Trait("Database", "Unused")] // touches no database: runs in the SQLite pass only
public class DnsRecordMatcherTests
{
    private static readonly DateTimeOffset Now = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static readonly string Key = TestKeys.K1.PublicKeyBase64;

    [Theory]
    [InlineData("exact")]
    [InlineData("quoted")]
    [InlineData("extra-whitespace")]
    [InlineData("reordered-tags")]
    [InlineData("whitespace-inside-key")]
    [InlineData("no-version-tag")]
    public void Dkim_matches_by_key_not_text(string variant)
    {
        var published = variant switch
        {
            "exact" => $"v=DKIM1; k=rsa; p={Key}",
            "quoted" => TxtStrings.ToQuoted($"v=DKIM1; k=rsa; p={Key}"), // pasted with its quotes into a panel
            "extra-whitespace" => $"v=DKIM1;  k=rsa;p={Key}  ",
            "reordered-tags" => $"k=rsa; p={Key}; v=DKIM1",
            "whitespace-inside-key" => $"v=DKIM1; k=rsa; p={Key[..100]} {Key[100..]}",
            _ => $"k=rsa; p={Key}",
        };

        Assert.Null(DnsRecordMatcher.DkimProblem(published, Key));
    }

    [Theory]
    [InlineData("truncated", "the key is shorter than expected: it looks truncated")]
    [InlineData("altered", "key differs")]
    [InlineData("longer", "longer than expected")]
    [InlineData("empty", "revoked")]
    [InlineData("no-p", "no p= tag")]
    [InlineData("ed25519", "k=rsa")]
    [InlineData("dkim2", "v=DKIM1")]
    public void Dkim_problems_say_what_differs(string variant, string hintPart)
    {
        var altered = Key[..50] + (Key[50] == 'A' ? 'B' : 'A') + Key[51..];
        var published = variant switch
        {
            "truncated" => $"v=DKIM1; k=rsa; p={Key[..255]}",
            "altered" => $"v=DKIM1; k=rsa; p={altered}",
            "longer" => $"v=DKIM1; k=rsa; p={Key}AAAA",
            "empty" => "v=DKIM1; k=rsa; p=",
            "no-p" => "v=DKIM1; k=rsa",
            "ed25519" => $"v=DKIM1; k=ed25519; p={Key}",
            _ => $"v=DKIM2; k=rsa; p={Key}",
        };

        var problem = DnsRecordMatcher.DkimProblem(published, Key);

        Assert.NotNull(problem);
        Assert.Contains(hintPart, problem, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void All_required_records_published_exactly_is_verified()
    {
        var result = Check(Published());

        Assert.Equal(DomainStatus.Verified, result.Status);
        Assert.Equal(Now, result.CheckedAt);
        Assert.False(result.DnsDidNotAnswer);
        Assert.All(result.Records.Where(r => r.Required), r => Assert.Equal(RecordStatus.Ok, r.Status));
        var dmarc = Single(result, RecordPurpose.Dmarc);
        Assert.Equal(RecordStatus.Warning, dmarc.Status); // missing DMARC warns but does not fail
        Assert.Equal("v=DMARC1; p=none;", dmarc.Value);
        Assert.False(dmarc.Required);
    }

    [Fact]
    public void Records_carry_purpose_host_value_and_what_was_found()
    {
        var result = Check(Published() with { Apex = Apex("connectiveone-verification=tok3n-9x", "v=spf1 mx ~all") });

        Assert.Collection(
            result.Records,
            r => Assert.Equal((RecordPurpose.Verification, true, "TXT", "acme.test", "connectiveone-verification=tok3n-9x"), (r.Purpose, r.Required, r.Type, r.Host, r.Value)),
            r => Assert.Equal((RecordPurpose.Spf, true, "acme.test", "v=spf1 mx include:mailgun.org ~all", "v=spf1 mx ~all"), (r.Purpose, r.Required, r.Host, r.Value, r.Found.Single())),
            r => Assert.Equal((RecordPurpose.Dkim, true, "k1._domainkey.acme.test"), (r.Purpose, r.Required, r.Host)),
            r => Assert.Equal((RecordPurpose.Dkim, false, "k2._domainkey.acme.test"), (r.Purpose, r.Required, r.Host)),
            r => Assert.Equal((RecordPurpose.Dmarc, false, "_dmarc.acme.test"), (r.Purpose, r.Required, r.Host)));
        Assert.Contains("acme.test. 3600 IN TXT \"v=spf1 mx include:mailgun.org ~all\"", result.ZoneFile, StringComparison.Ordinal);
    }

    [Fact]
    public void Dkim_split_into_strings_is_joined_before_comparing()
    {
        var parts = TxtStrings.Split(TestKeys.K1.TxtValue).ToArray();
        var result = Check(Published() with { Dkim = Dkim(new TxtRecordData(parts)) });

        Assert.Equal(RecordStatus.Ok, Single(result, RecordPurpose.Dkim).Status);
        Assert.Equal(TestKeys.K1.TxtValue, Single(result, RecordPurpose.Dkim).Found.Single());
    }

    public static TheoryData<string, DomainStatus, RecordPurpose, RecordStatus, string?> StatusCases => new()
    {
        { "nothing published", DomainStatus.Pending, RecordPurpose.Verification, RecordStatus.Missing, "Not found yet" },
        { "dkim missing", DomainStatus.Pending, RecordPurpose.Dkim, RecordStatus.Missing, "Not found yet" },
        { "dkim truncated", DomainStatus.Failed, RecordPurpose.Dkim, RecordStatus.Wrong, "looks truncated" },
        { "token differs", DomainStatus.Failed, RecordPurpose.Verification, RecordStatus.Wrong, "token is different" },
        { "two spf", DomainStatus.Failed, RecordPurpose.Spf, RecordStatus.Wrong, "merge these into one" },
        { "include missing", DomainStatus.Failed, RecordPurpose.Spf, RecordStatus.Wrong, "does not include mailgun.org" },
        { "apex no answer", DomainStatus.Pending, RecordPurpose.Spf, RecordStatus.NoAnswer, "did not answer" },
        { "dkim no answer", DomainStatus.Pending, RecordPurpose.Dkim, RecordStatus.NoAnswer, "did not answer" },
        { "dmarc no answer", DomainStatus.Verified, RecordPurpose.Dmarc, RecordStatus.NoAnswer, "did not answer" },
        { "dmarc reject", DomainStatus.Verified, RecordPurpose.Dmarc, RecordStatus.Ok, "DKIM-aligned" },
        { "two dmarc", DomainStatus.Verified, RecordPurpose.Dmarc, RecordStatus.Warning, "Keep only one" },
        { "spf over limit", DomainStatus.Verified, RecordPurpose.Spf, RecordStatus.Warning, "needs 12 DNS lookups" },
        { "spf +all", DomainStatus.Verified, RecordPurpose.Spf, RecordStatus.Warning, "+all" },
        { "spf include loop", DomainStatus.Verified, RecordPurpose.Spf, RecordStatus.Warning, "loop" },
        { "k2 missing", DomainStatus.Verified, RecordPurpose.Dkim, RecordStatus.Missing, "Optional" },
    };

    [Theory]
    [MemberData(nameof(StatusCases))]
    public void Domain_status_and_record_hints(string scenario, DomainStatus domainStatus, RecordPurpose purpose, RecordStatus recordStatus, string? hintPart)
    {
        var ok = Published();
        var snapshot = scenario switch
        {
            "nothing published" => new DomainDnsSnapshot(TxtLookupResult.NotFound, TxtLookupResult.NotFound, new Dictionary<string, TxtLookupResult>()),
            "dkim missing" => ok with { Dkim = new Dictionary<string, TxtLookupResult> { ["k1"] = TxtLookupResult.NotFound } },
            "dkim truncated" => ok with { Dkim = Dkim(TxtRecordData.Of(TestKeys.K1.TxtValue[..255])) },
            "token differs" => ok with { Apex = Apex("connectiveone-verification=other", "v=spf1 include:mailgun.org -all") },
            "two spf" => ok with { Apex = Apex("connectiveone-verification=tok3n-9x", "v=spf1 include:mailgun.org -all", "v=spf1 mx -all") },
            "include missing" => ok with { Apex = Apex("connectiveone-verification=tok3n-9x", "v=spf1 mx -all") },
            "apex no answer" => ok with { Apex = TxtLookupResult.NoAnswer },
            "dkim no answer" => ok with { Dkim = new Dictionary<string, TxtLookupResult> { ["k1"] = TxtLookupResult.NoAnswer } },
            "dmarc no answer" => ok with { Dmarc = TxtLookupResult.NoAnswer },
            "dmarc reject" => ok with { Dmarc = TxtLookupResult.Of("v=DMARC1; p=reject; rua=mailto:d@acme.test") },
            "two dmarc" => ok with { Dmarc = TxtLookupResult.Of("v=DMARC1; p=none", "v=DMARC1; p=reject") },
            "spf over limit" => ok with { SpfLookups = new SpfLookupCount(12, false, false, []) },
            "spf +all" => ok with { Apex = Apex("connectiveone-verification=tok3n-9x", "v=spf1 include:mailgun.org +all") },
            "spf include loop" => ok with { SpfLookups = new SpfLookupCount(3, true, false, ["x.example includes itself through a loop; receivers treat this SPF record as an error."]) },
            "k2 missing" => ok,
            _ => throw new ArgumentOutOfRangeException(nameof(scenario)),
        };

        var result = Check(snapshot);

        Assert.Equal(domainStatus, result.Status);
        var record = purpose == RecordPurpose.Dkim && scenario == "k2 missing"
            ? result.Records.Single(r => r.Host.StartsWith("k2.", StringComparison.Ordinal))
            : result.Records.First(r => r.Purpose == purpose);
        Assert.Equal(recordStatus, record.Status);
        if (hintPart is not null)
        {
            Assert.Contains(hintPart, record.Hint, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Existing_dmarc_is_kept_as_the_value()
    {
        var result = Check(Published() with { Dmarc = TxtLookupResult.Of("v=DMARC1; p=quarantine; pct=50") });

        var dmarc = Single(result, RecordPurpose.Dmarc);
        Assert.Equal("v=DMARC1; p=quarantine; pct=50", dmarc.Value);
        Assert.Contains("p=quarantine", dmarc.Hint, StringComparison.Ordinal);
        Assert.Contains("DKIM-aligned", dmarc.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void Verification_tolerates_quotes_and_other_txt_records()
    {
        var result = Check(Published() with { Apex = Apex("google-site-verification=x", "\"connectiveone-verification=tok3n-9x\"", "v=spf1 include:mailgun.org -all") });

        Assert.Equal(RecordStatus.Ok, Single(result, RecordPurpose.Verification).Status);
    }

    [Fact]
    public void Spf_split_across_strings_is_joined_before_comparing()
    {
        var apex = new TxtLookupResult(TxtLookupStatus.Found, [
            TxtRecordData.Of("connectiveone-verification=tok3n-9x"),
            TxtRecordData.Of("v=spf1 include:_spf.google.com ", "include:mailgun.org ~all"),
        ]);

        var result = Check(Published() with { Apex = apex });

        var spf = Single(result, RecordPurpose.Spf);
        Assert.Equal(RecordStatus.Ok, spf.Status);
        Assert.Equal("v=spf1 include:_spf.google.com include:mailgun.org ~all", spf.Value);
    }

    private static DomainCheckResult Check(DomainDnsSnapshot snapshot) =>
        DnsRecordMatcher.Check(TestKeys.Settings(), snapshot, Now);

    private static CheckedRecord Single(DomainCheckResult result, RecordPurpose purpose) =>
        result.Records.First(r => r.Purpose == purpose);

    private static DomainDnsSnapshot Published() =>
        new(
            Apex("connectiveone-verification=tok3n-9x", "v=spf1 include:mailgun.org -all"),
            TxtLookupResult.NotFound,
            Dkim(TxtRecordData.Of(TestKeys.K1.TxtValue)));

    private static TxtLookupResult Apex(params string[] records) => TxtLookupResult.Of(records);

    private static Dictionary<string, TxtLookupResult> Dkim(TxtRecordData k1) =>
        new() { ["k1"] = new TxtLookupResult(TxtLookupStatus.Found, [k1]), ["k2"] = TxtLookupResult.NotFound };
}
