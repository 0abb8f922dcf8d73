using ConnectiveOne.Core.Dns;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Tests.Dns;

/// <summary>The verifier against a real DNS server on 127.0.0.1, configured through the production server-list parsing.</summary>
[Trait("Database", "Unused")] // touches no database: runs in the SQLite pass only
public sealed class DnsVerifierIntegrationTests : IAsyncLifetime
{
    private const string Domain = "acme.test";
    private FakeDnsServer _dns = null!;
    private DnsVerifier _verifier = null!;

    public Task InitializeAsync()
    {
        _dns = FakeDnsServer.Start();
        // The relay's own SPF, as the include target the lookup count follows.
        _dns.SetTxt("mailgun.org", "v=spf1 include:_spf.mailgun.org ~all");
        _dns.SetTxt("_spf.mailgun.org", "v=spf1 ip4:192.0.2.0/24 ~all");
        _verifier = new DnsVerifier(
            Options.Create(new DnsOptions { Servers = _dns.ServersSetting, Timeout = TimeSpan.FromMilliseconds(400), Retries = 0 }),
            TimeProvider.System);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _dns.DisposeAsync();

    [Fact]
    public async Task No_records_is_pending()
    {
        var result = await CheckAsync();

        Assert.Equal(DomainStatus.Pending, result.Status);
        Assert.False(result.DnsDidNotAnswer);
        Assert.All(result.Records.Where(r => r.Required && !r.Host.StartsWith("k2.", StringComparison.Ordinal)), r => Assert.Equal(RecordStatus.Missing, r.Status));
        Assert.Equal(RecordStatus.Warning, Record(result, RecordPurpose.Dmarc).Status);
        Assert.True(DateTimeOffset.UtcNow - result.CheckedAt < TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task Publishing_the_planned_values_verifies_and_a_changed_record_is_seen_next_check()
    {
        var planned = (await CheckAsync()).Records;
        PublishAsPlanned(planned);

        var verified = await CheckAsync();

        Assert.Equal(DomainStatus.Verified, verified.Status);
        Assert.Equal(TestKeys.K1.TxtValue, Record(verified, RecordPurpose.Dkim).Found.Single());

        // DKIM altered: the very next check sees it (no cache) and says what differs.
        var key = TestKeys.K1.PublicKeyBase64;
        _dns.SetTxt($"k1._domainkey.{Domain}", [.. TxtStrings.Split(DkimRecord.TxtValue(key[..200]))]);

        var failed = await CheckAsync();

        Assert.Equal(DomainStatus.Failed, failed.Status);
        var dkim = Record(failed, RecordPurpose.Dkim);
        Assert.Equal(RecordStatus.Wrong, dkim.Status);
        Assert.Contains("looks truncated", dkim.Hint, StringComparison.Ordinal);

        _dns.SetTxt($"k1._domainkey.{Domain}", [.. TxtStrings.Split(TestKeys.K1.TxtValue)]);
        Assert.Equal(DomainStatus.Verified, (await CheckAsync()).Status);
    }

    [Fact]
    public async Task Existing_spf_is_merged_and_two_spf_records_fail_with_merge_hint()
    {
        _dns.SetTxt(Domain, ["v=spf1 include:_spf.google.com ~all"]);
        var first = await CheckAsync();
        Assert.Equal("v=spf1 include:_spf.google.com include:mailgun.org ~all", Record(first, RecordPurpose.Spf).Value);

        PublishAsPlanned(first.Records);
        _dns.SetTxt(Domain, ["connectiveone-verification=tok3n-9x"], ["v=spf1 include:mailgun.org -all"], ["v=spf1 mx -all"]);

        var result = await CheckAsync();

        Assert.Equal(DomainStatus.Failed, result.Status);
        var spf = Record(result, RecordPurpose.Spf);
        Assert.Equal(RecordStatus.Wrong, spf.Status);
        Assert.Equal(2, spf.Found.Count);
        Assert.Contains("merge these into one", spf.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Servfail_keeps_pending_with_did_not_answer()
    {
        PublishAsPlanned((await CheckAsync()).Records);
        _dns.SetServFail($"k1._domainkey.{Domain}");

        var result = await CheckAsync();

        Assert.Equal(DomainStatus.Pending, result.Status);
        Assert.True(result.DnsDidNotAnswer);
        var dkim = Record(result, RecordPurpose.Dkim);
        Assert.Equal(RecordStatus.NoAnswer, dkim.Status);
        Assert.Contains("did not answer", dkim.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_that_never_answers_is_a_timeout_not_a_failure()
    {
        _dns.SetSilent(Domain);

        var result = await CheckAsync();

        Assert.Equal(DomainStatus.Pending, result.Status);
        Assert.Equal(RecordStatus.NoAnswer, Record(result, RecordPurpose.Verification).Status);
        Assert.Contains("did not answer", Record(result, RecordPurpose.Spf).Hint, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_relays_include_tree_is_reused_between_checks_but_the_domains_own_names_are_asked_every_time()
    {
        await CheckAsync();
        var first = _dns.QueryCount;
        await CheckAsync();
        var second = _dns.QueryCount - first;

        // apex, _dmarc, k1, k2 every time; mailgun.org and _spf.mailgun.org only on the first check.
        Assert.Equal(6, first);
        Assert.Equal(4, second);

        _dns.SetTxt(Domain, "v=spf1 -all");
        Assert.Contains("v=spf1 -all", Record(await CheckAsync(), RecordPurpose.Spf).Found);
    }

    [Fact]
    public async Task All_names_of_a_domain_are_looked_up_concurrently()
    {
        _dns.SetSilent(Domain);
        _dns.SetSilent($"k1._domainkey.{Domain}");
        _dns.SetSilent($"k2._domainkey.{Domain}");
        _dns.SetSilent($"_dmarc.{Domain}");

        var result = await CheckAsync();

        Assert.All(result.Records, r => Assert.Equal(RecordStatus.NoAnswer, r.Status));
        Assert.Equal(4, _dns.MaxSilentInFlight);
    }

    [Fact]
    public async Task A_large_answer_falls_back_to_tcp()
    {
        // About 6 KB of TXT: more than a UDP answer carries, so the server sets TC and the client retries over TCP.
        var filler = Enumerable.Range(0, 24).Select(i => new[] { $"filler-{i:D2}=" + new string('x', 240) });
        _dns.SetTxt(Domain, [.. filler, ["connectiveone-verification=tok3n-9x"]]);

        var result = await CheckAsync();

        Assert.Equal(RecordStatus.Ok, Record(result, RecordPurpose.Verification).Status);
        Assert.True(_dns.TcpQueryCount > 0);
    }

    [Theory]
    [InlineData(true)] // the resolver chases the CNAME and returns the target's TXT
    [InlineData(false)] // only the CNAME comes back: the verifier follows it
    public async Task Dkim_published_as_cname_is_followed(bool serverChases)
    {
        PublishAsPlanned((await CheckAsync()).Records);
        _dns.ChaseCnames = serverChases;
        _dns.SetCname($"k1._domainkey.{Domain}", "k1.dkim.provider.test");
        _dns.SetTxt("k1.dkim.provider.test", [.. TxtStrings.Split(TestKeys.K1.TxtValue)]);

        var result = await CheckAsync();

        Assert.Equal(RecordStatus.Ok, Record(result, RecordPurpose.Dkim).Status);
        Assert.Equal(DomainStatus.Verified, result.Status);
    }

    [Fact]
    public async Task Cname_loop_is_no_answer()
    {
        _dns.ChaseCnames = false;
        _dns.SetCname("a.loop.test", "b.loop.test");
        _dns.SetCname("b.loop.test", "a.loop.test");

        var result = await _verifier.LookupTxtAsync("a.loop.test", CancellationToken.None);

        Assert.Equal(TxtLookupStatus.NoAnswer, result.Status);
    }

    [Fact]
    public async Task Spf_lookup_count_follows_includes_through_dns()
    {
        _dns.SetTxt(Domain, "v=spf1 a mx include:many.test ~all");
        _dns.SetTxt("many.test", "v=spf1 a a a a a a mx ptr ~all");

        var result = await CheckAsync();

        // a + mx + include:many.test (8) + include:mailgun.org + include:_spf.mailgun.org = 13
        var spf = Record(result, RecordPurpose.Spf);
        Assert.Contains("needs 13 DNS lookups", spf.Hint, StringComparison.Ordinal);
    }

    private Task<DomainCheckResult> CheckAsync() => _verifier.CheckAsync(TestKeys.Settings(Domain), CancellationToken.None);

    private static CheckedRecord Record(DomainCheckResult result, RecordPurpose purpose) =>
        result.Records.First(r => r.Purpose == purpose);

    /// <summary>Publishes the required records the way a user would from the DNS panel: all apex TXT together, DKIM as 255-byte strings.</summary>
    private void PublishAsPlanned(IReadOnlyList<CheckedRecord> records)
    {
        foreach (var group in records.Where(r => r.Required).GroupBy(r => r.Host))
        {
            _dns.SetTxt(group.Key, [.. group.Select(r => TxtStrings.Split(r.Value).ToArray())]);
        }
    }
}
