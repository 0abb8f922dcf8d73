using System.Diagnostics;
using System.Net;
using System.Text.Json;
using ConnectiveOne.Tests.Dns;
using ConnectiveOne.Tests.TestSupport;
using Xunit.Abstractions;

namespace ConnectiveOne.Tests.Reliability;

/// <summary>
/// DNS that misbehaves, through the domains API, the production verifier and a real DNS server on loopback: a fault
/// says nothing about the records, so a pending domain stays Pending with a hint and a verified one stays Verified.
/// Figures go to docs/RELIABILITY.md §8.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class DnsFaultTests(ITestOutputHelper output) : IAsyncLifetime
{
    private SetupApp _setup = null!;
    private HttpClient _admin = null!;

    public Task InitializeAsync()
    {
        _setup = SetupApp.Start();
        _admin = _setup.App.CreateApiClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _setup.DisposeAsync();

    /// <summary>One TXT record of 255 strings of 255 characters: about 64 KB, only deliverable over TCP.</summary>
    private static readonly string[] Filler = Enumerable.Range(0, 255).Select(i => $"{i:D3}" + new string('f', 252)).ToArray();

    private sealed record Fault(string Name, Action<FakeDnsServer, string, string[][]> Apply);

    private static readonly Fault[] Faults =
    [
        new("SERVFAIL at the apex and the DKIM name", (dns, d, _) =>
        {
            dns.SetServFail(d);
            dns.SetServFail($"k1._domainkey.{d}");
        }),
        new("SERVFAIL on every name of the domain", (dns, d, _) =>
        {
            foreach (var name in Names(d))
                dns.SetServFail(name);
        }),
        new("timeout at the apex and the DKIM name", (dns, d, _) =>
        {
            dns.SetSilent(d);
            dns.SetSilent($"k1._domainkey.{d}");
        }),
        new("64 KB TXT at the apex: UDP truncated, TCP answers", (dns, d, apex) => dns.SetTxt(d, [.. apex, Filler])),
        new("64 KB TXT at the apex: UDP truncated, TCP never answers", (dns, d, apex) =>
        {
            dns.SetTxt(d, [.. apex, Filler]);
            dns.Tcp = TcpFault.Silent;
        }),
        new("64 KB TXT at the apex: UDP truncated, TCP connection dropped", (dns, d, apex) =>
        {
            dns.SetTxt(d, [.. apex, Filler]);
            dns.Tcp = TcpFault.Drop;
        }),
        new("CNAME loop at the apex and the DKIM name, resolver chases", (dns, d, _) =>
        {
            Loop(dns, d);
            Loop(dns, $"k1._domainkey.{d}");
        }),
        new("CNAME loop at the apex and the DKIM name, resolver returns only the CNAME", (dns, d, _) =>
        {
            dns.ChaseCnames = false;
            Loop(dns, d);
            Loop(dns, $"k1._domainkey.{d}");
        }),
    ];

    private static string[] Names(string domain) => [domain, $"k1._domainkey.{domain}", $"k2._domainkey.{domain}", $"_dmarc.{domain}"];

    private static void Loop(FakeDnsServer dns, string name)
    {
        dns.SetCname(name, $"loop-a.{name}");
        dns.SetCname($"loop-a.{name}", $"loop-b.{name}");
        dns.SetCname($"loop-b.{name}", name);
    }

    /// <summary>Takes every fault away from the domain's names and puts back what was published (nothing for a pending domain).</summary>
    private void Clear(string domain, JsonElement? published)
    {
        _setup.Dns.Tcp = TcpFault.None;
        _setup.Dns.ChaseCnames = true;
        foreach (var name in Names(domain))
            _setup.Dns.Remove(name);
        if (published is { } plan)
            _setup.Publish(plan);
    }

    [Fact]
    public async Task Dns_faults_never_fail_a_domain_and_never_crash_the_check()
    {
        const string pending = "pending.test", verified = "verified.test";
        await _setup.AddAddressAsync(_admin, $"support@{pending}");
        await _setup.AddAddressAsync(_admin, $"support@{verified}");
        var plan = (await VerifyAsync(verified)).Domain!.Value;
        _setup.Publish(plan);
        Assert.Equal("Verified", (await VerifyAsync(verified)).Domain?.GetProperty("status").GetString());

        var wronglyFailed = new List<string>();
        var crashes = new List<string>();
        var notRecovered = new List<string>();
        var slowest = TimeSpan.Zero;
        foreach (var fault in Faults)
        {
            // A domain never verified: Pending, with a hint that says why; a verified one: still Verified.
            foreach (var (domain, expected, published) in new[] { (pending, "Pending", (JsonElement?)null), (verified, "Verified", plan) })
            {
                fault.Apply(_setup.Dns, domain, published is { } p ? ApexValues(p) : []);
                var (result, time) = await VerifyAsync(domain);
                Clear(domain, published);
                slowest = time > slowest ? time : slowest;
                if (result is null)
                {
                    crashes.Add($"{fault.Name} ({domain})");
                    continue;
                }
                var status = result.Value.GetProperty("status").GetString();
                var hints = Hints(result.Value);
                output.WriteLine($"{fault.Name}, {expected} before: {status} in {time.TotalSeconds:0.00} s; {hints}");
                if (status == "Failed")
                    wronglyFailed.Add($"{fault.Name} ({domain})");
                Assert.Equal(expected, status);
                if (expected == "Pending")
                    Assert.False(string.IsNullOrEmpty(hints), $"{fault.Name}: no hint for a pending domain");

                // Once DNS is healthy again the next check sees the records as they are.
                if ((await VerifyAsync(domain)).Domain?.GetProperty("status").GetString() != expected)
                    notRecovered.Add($"{fault.Name} ({domain})");
            }
        }

        var health = await _setup.App.CreateApiClient(null).GetAsync("/health");
        output.WriteLine($"Faults: {Faults.Length} x 2 domains; wrongly Failed: {wronglyFailed.Count}; crashes: {crashes.Count}; " +
            $"not back to normal after the fault: {notRecovered.Count}; slowest verify: {slowest.TotalSeconds:0.0} s (DNS timeout 0.5 s, no retries); " +
            $"/health after: {(int)health.StatusCode}");
        Assert.Empty(wronglyFailed);
        Assert.Empty(crashes);
        Assert.Empty(notRecovered);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    /// <summary>The verify response, or null when the API did not answer 200 (a crash for this figure).</summary>
    private async Task<(JsonElement? Domain, TimeSpan Time)> VerifyAsync(string domain)
    {
        var clock = Stopwatch.StartNew();
        var response = await _admin.PostAsync($"/api/v1/domains/{domain}/verify", null);
        var time = clock.Elapsed;
        if (response.StatusCode != HttpStatusCode.OK)
        {
            output.WriteLine($"verify {domain}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            return (null, time);
        }
        return (await SetupApp.JsonAsync(response), time);
    }

    private static string[][] ApexValues(JsonElement plan)
    {
        var apex = plan.GetProperty("name").GetString();
        return plan.GetProperty("records").EnumerateArray()
            .Where(r => r.GetProperty("host").GetString() == apex)
            .Select(r => new[] { r.GetProperty("value").GetString()! })
            .ToArray();
    }

    /// <summary>The domain's hint and the required records' hints, joined.</summary>
    private static string Hints(JsonElement domain)
    {
        var hints = new List<string>();
        if (domain.TryGetProperty("hint", out var hint) && hint.ValueKind == JsonValueKind.String)
            hints.Add("domain: " + hint.GetString());
        foreach (var record in domain.GetProperty("records").EnumerateArray().Where(r => r.GetProperty("required").GetBoolean()))
        {
            if (record.GetProperty("hint").ValueKind == JsonValueKind.String)
                hints.Add($"{record.GetProperty("purpose").GetString()} {record.GetProperty("status").GetString()}: {record.GetProperty("hint").GetString()}");
        }
        return string.Join(" | ", hints);
    }
}
