using System.Net;
using System.Text.Json;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Tests.Integration;

/// <summary>Steps 3–4 through the API against a real DNS server on loopback whose records change during the test.</summary>
public sealed class DomainsApiTests : IAsyncLifetime
{
    private const string Domain = "acme.test";
    private SetupApp _setup = null!;
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _setup = SetupApp.Start();
        _admin = _setup.App.CreateApiClient();
        await _setup.AddAddressAsync(_admin, $"support@{Domain}");
    }

    public async Task DisposeAsync() => await _setup.DisposeAsync();

    private async Task<JsonElement> VerifyAsync(string domain = Domain)
    {
        var response = await _admin.PostAsync($"/api/v1/domains/{domain}/verify", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await SetupApp.JsonAsync(response);
    }

    private static JsonElement Record(JsonElement domain, string purpose, string? hostPrefix = null) =>
        domain.GetProperty("records").EnumerateArray().Single(r =>
            r.GetProperty("purpose").GetString() == purpose
            && (hostPrefix is null || r.GetProperty("host").GetString()!.StartsWith(hostPrefix, StringComparison.Ordinal)));

    [Fact]
    public async Task No_records_is_pending_then_publishing_the_returned_values_verifies()
    {
        var pending = await VerifyAsync();

        Assert.Equal("Pending", pending.GetProperty("status").GetString());
        Assert.True(pending.GetProperty("checkedAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-1));
        var required = pending.GetProperty("records").EnumerateArray().Where(r => r.GetProperty("required").GetBoolean()).ToArray();
        Assert.Equal(new[] { "Verification", "Spf", "Dkim" }, required.Select(r => r.GetProperty("purpose").GetString()));
        Assert.All(required, r => Assert.Equal("Missing", r.GetProperty("status").GetString()));
        Assert.Equal("k1._domainkey.acme.test", Record(pending, "Dkim", "k1.").GetProperty("host").GetString());
        Assert.Equal("v=spf1 include:mailgun.org -all", Record(pending, "Spf").GetProperty("value").GetString());
        Assert.Equal("Warning", Record(pending, "Dmarc").GetProperty("status").GetString());

        _setup.Publish(pending);
        var verified = await VerifyAsync();

        Assert.Equal("Verified", verified.GetProperty("status").GetString());
        Assert.All(verified.GetProperty("records").EnumerateArray().Where(r => r.GetProperty("required").GetBoolean()),
            r => Assert.Equal("Ok", r.GetProperty("status").GetString()));
        // The DKIM value was published as several 255-byte strings and is read back joined.
        Assert.Equal(Record(pending, "Dkim", "k1.").GetProperty("value").GetString(),
            Record(verified, "Dkim", "k1.").GetProperty("found")[0].GetString());

        // GET shows the stored result without a new lookup.
        var queries = _setup.Dns.QueryCount;
        var stored = await SetupApp.JsonAsync(await _admin.GetAsync($"/api/v1/domains/{Domain}"));
        Assert.Equal("Verified", stored.GetProperty("status").GetString());
        Assert.Equal(queries, _setup.Dns.QueryCount);
    }

    [Fact]
    public async Task An_altered_dkim_value_fails_with_a_hint()
    {
        var first = await VerifyAsync();
        _setup.Publish(first);
        var value = Record(first, "Dkim", "k1.").GetProperty("value").GetString()!;
        var altered = value[..^10] + (value[^10] == 'A' ? 'B' : 'A') + value[^9..];
        _setup.Dns.SetTxt($"k1._domainkey.{Domain}", [.. TxtStrings.Split(altered)]);

        var failed = await VerifyAsync();

        Assert.Equal("Failed", failed.GetProperty("status").GetString());
        var dkim = Record(failed, "Dkim", "k1.");
        Assert.Equal("Wrong", dkim.GetProperty("status").GetString());
        Assert.Contains("differs from the one ConnectiveOne generated", dkim.GetProperty("hint").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_spf_records_fail_with_the_merge_hint()
    {
        var first = await VerifyAsync();
        _setup.Publish(first);
        var verification = Record(first, "Verification").GetProperty("value").GetString()!;
        _setup.Dns.SetTxt(Domain, [verification], ["v=spf1 include:mailgun.org -all"], ["v=spf1 mx -all"]);

        var failed = await VerifyAsync();

        Assert.Equal("Failed", failed.GetProperty("status").GetString());
        var spf = Record(failed, "Spf");
        Assert.Equal(2, spf.GetProperty("found").GetArrayLength());
        Assert.Contains("Please merge these into one", spf.GetProperty("hint").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_existing_spf_record_is_merged_in_the_value_to_publish()
    {
        _setup.Dns.SetTxt(Domain, "v=spf1 include:_spf.google.com ~all");

        var domain = await VerifyAsync();

        Assert.Equal("v=spf1 include:_spf.google.com include:mailgun.org ~all", Record(domain, "Spf").GetProperty("value").GetString());
        Assert.Contains("do not add a second SPF record", Record(domain, "Spf").GetProperty("hint").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dns_outage_keeps_pending_and_never_demotes_a_verified_domain()
    {
        _setup.Dns.SetServFail(Domain);
        var outage = await VerifyAsync();
        Assert.Equal("Pending", outage.GetProperty("status").GetString());
        Assert.Contains("did not answer", outage.GetProperty("hint").GetString(), StringComparison.Ordinal);

        _setup.Dns.Remove(Domain);
        _setup.Publish(await VerifyAsync());
        Assert.Equal("Verified", (await VerifyAsync()).GetProperty("status").GetString());

        _setup.Dns.SetServFail(Domain);
        var stillVerified = await VerifyAsync();
        Assert.Equal("Verified", stillVerified.GetProperty("status").GetString());
        Assert.Equal("NoAnswer", Record(stillVerified, "Spf").GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_second_address_on_a_verified_domain_is_verified_at_once_and_listed_on_the_domain()
    {
        _setup.Publish(await VerifyAsync());
        Assert.Equal("Verified", (await VerifyAsync()).GetProperty("status").GetString());

        var second = await _setup.AddAddressAsync(_admin, $"sales@{Domain}");

        Assert.Equal("Verified", second.GetProperty("domainStatus").GetString());
        var domain = await SetupApp.JsonAsync(await _admin.GetAsync($"/api/v1/domains/{Domain}"));
        Assert.Equal(new[] { $"sales@{Domain}", $"support@{Domain}" },
            domain.GetProperty("addresses").EnumerateArray().Select(a => a.GetProperty("email").GetString()));
    }

    [Fact]
    public async Task The_background_worker_verifies_a_due_domain_removes_a_record_and_announces_each_change()
    {
        var changes = new List<ChangeEvent>();
        using var subscription = _setup.App.Services.GetRequiredService<ChangeNotifier>()
            .Subscribe(c => { lock (changes) changes.Add(c); });
        var worker = _setup.App.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<DomainRecheckWorker>().Single();

        var planned = await VerifyAsync();
        _setup.Publish(planned);
        await MakeDueAsync();
        Assert.True(await worker.CheckDueAsync(CancellationToken.None) >= 1);
        var verified = await SetupApp.JsonAsync(await _admin.GetAsync($"/api/v1/domains/{Domain}"));
        Assert.Equal("Verified", verified.GetProperty("status").GetString());
        Assert.True(verified.GetProperty("nextCheckAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddHours(23));

        _setup.Dns.Remove($"k1._domainkey.{Domain}");
        await MakeDueAsync();
        await worker.CheckDueAsync(CancellationToken.None);

        var failed = await SetupApp.JsonAsync(await _admin.GetAsync($"/api/v1/domains/{Domain}"));
        Assert.Equal("Failed", failed.GetProperty("status").GetString());
        Assert.Equal(DomainCheckOutcome.RemovedHint, Record(failed, "Dkim", "k1.").GetProperty("hint").GetString());
        lock (changes)
            Assert.Equal(new[] { "acme.test is now Verified", "acme.test is now Failed" },
                changes.Where(c => c.Kind == ChangeKind.DomainStatusChanged).Select(c => c.Summary));
    }

    private async Task MakeDueAsync()
    {
        await using var scope = _setup.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ConnectiveOne.Core.Persistence.AppDbContext>();
        var domain = await db.Domains.FindAsync(Domain);
        domain!.NextCheckAt = DateTimeOffset.UtcNow.AddSeconds(-1);
        await db.SaveChangesAsync();
    }
}
