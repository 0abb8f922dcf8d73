using System.Net.Http.Json;
using System.Text.Json;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Tests.Dns;

namespace ConnectiveOne.Tests.TestSupport;

/// <summary>
/// A <see cref="TestApp"/> whose DNS checks go to a real <see cref="FakeDnsServer"/> on loopback, through
/// <c>ConnectiveOne:Dns:Servers</c>, with helpers to add addresses and publish a domain's records.
/// </summary>
internal sealed class SetupApp : IAsyncDisposable
{
    private SetupApp(FakeDnsServer dns, TestApp app)
    {
        Dns = dns;
        App = app;
    }

    public FakeDnsServer Dns { get; }
    public TestApp App { get; }

    /// <param name="recheck">Re-check schedule overrides (e.g. <c>PollInterval</c>); by default the worker waits an hour between rounds.</param>
    /// <param name="settings">Further app settings (an SMTP listener, a relay).</param>
    public static SetupApp Start(IDictionary<string, string?>? recheck = null, IDictionary<string, string?>? settings = null)
    {
        var dns = FakeDnsServer.Start();
        // The relay's SPF, which the lookup count follows.
        dns.SetTxt("mailgun.org", "v=spf1 include:_spf.mailgun.org ~all");
        dns.SetTxt("_spf.mailgun.org", "v=spf1 ip4:192.0.2.0/24 ~all");
        var all = new Dictionary<string, string?>
        {
            ["ConnectiveOne:Dns:Servers"] = dns.ServersSetting,
            ["ConnectiveOne:Dns:Timeout"] = "00:00:00.500",
            ["ConnectiveOne:Dns:Retries"] = "0",
            ["ConnectiveOne:InboundDomain"] = "inbound.example.net",
            ["ConnectiveOne:Dns:Recheck:PollInterval"] = "01:00:00",
        };
        foreach (var (key, value) in recheck ?? new Dictionary<string, string?>())
            all[$"ConnectiveOne:Dns:Recheck:{key}"] = value;
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            all[key] = value;
        return new SetupApp(dns, new TestApp(settings: all));
    }

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>())!;

    public async Task<JsonElement> AddAddressAsync(HttpClient client, string email)
    {
        var response = await client.PostAsJsonAsync("/api/v1/addresses", new { email });
        Assert.True(response.IsSuccessStatusCode, $"Adding {email}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await JsonAsync(response);
    }

    /// <summary>Publishes every record of a Domain response exactly as returned, DKIM split into 255-byte strings.</summary>
    public void Publish(JsonElement domain)
    {
        var byHost = new Dictionary<string, List<string[]>>(StringComparer.OrdinalIgnoreCase);
        foreach (var record in domain.GetProperty("records").EnumerateArray())
        {
            var host = record.GetProperty("host").GetString()!;
            var value = record.GetProperty("value").GetString()!;
            var strings = record.GetProperty("purpose").GetString() == "Dkim" ? TxtStrings.Split(value).ToArray() : [value];
            if (!byHost.TryGetValue(host, out var list))
                byHost[host] = list = [];
            list.Add(strings);
        }

        foreach (var (host, records) in byHost)
            Dns.SetTxt(host, [.. records]);
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        await Dns.DisposeAsync();
    }
}
