using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace ConnectiveOne.Tests.Reliability;

/// <summary>
/// Creates every kind of secret the app holds or sees (DKIM private keys, relay password, API tokens, user passwords,
/// webhook credentials, a mistyped password), uses them the way the app does, then reads the raw bytes of the SQLite
/// file and its WAL (on PostgreSQL every row of every table) and every log file: none of the plaintexts, nor a PEM private key header, may be in them.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class SecretsAtRestTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string RelayPassword = "relay-Pa55word-7d1f3c9a";
    private const string OperatorPassword = "olivia-Pa55word-5b2e8f";
    private const string MistypedPassword = "olivia-Pa55word-5b2e8g";
    private CaptureRelay _relay = null!;
    private InboundApp _inbound = null!;
    private TestApp App => _inbound.App;

    public async Task InitializeAsync()
    {
        _relay = await CaptureRelay.StartAsync();
        var settings = new Dictionary<string, string?>(_relay.Settings)
        {
            ["ConnectiveOne:Outbound:Username"] = "relay-user",
            ["ConnectiveOne:Outbound:Password"] = RelayPassword,
        };
        _inbound = new InboundApp(settings);
    }

    public async Task DisposeAsync()
    {
        await _inbound.DisposeAsync();
        await _relay.DisposeAsync();
    }

    [Fact]
    public async Task No_secret_is_readable_in_the_database_its_wal_or_the_logs()
    {
        var secrets = new Dictionary<string, string>
        {
            ["relay password"] = RelayPassword,
            ["operator password"] = OperatorPassword,
            ["mistyped password"] = MistypedPassword,
            ["admin password"] = TestApp.AdminPassword,
            ["bootstrap API token"] = TestApp.AdminToken,
            ["webhook token"] = InboundApp.WebhookToken,
            ["Mailgun signing key"] = InboundApp.MailgunKey,
        };
        var admin = App.CreateApiClient();

        // DKIM keys: generated when the first address of a domain is added.
        var address = await (await admin.PostAsJsonAsync("/api/v1/addresses", new { email = "support@acme.test" }))
            .EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
        await using (var scope = App.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var protector = scope.ServiceProvider.GetRequiredService<IDataProtectionProvider>().CreateProtector(DkimKey.ProtectionPurpose);
            foreach (var key in await db.Set<DkimKey>().AsNoTracking().ToListAsync())
            {
                var body = string.Concat(protector.Unprotect(key.ProtectedPrivateKey).Split('\n').Where(l => !l.StartsWith("-----")).Select(l => l.Trim()));
                secrets[$"DKIM private key {key.Selector} (base64)"] = body[64..128];
                secrets[$"DKIM private key {key.Selector} (DER)"] = Encoding.Latin1.GetString(Convert.FromBase64String(body).AsSpan(40, 32));
            }
        }

        // API tokens and passwords, through the API as an integration would; a failed sign-in with a near miss.
        secrets["operator API token"] = await App.CreateUserWithTokenAsync("olivia@example.test", "Operator", OperatorPassword);
        var anonymous = App.CreateApiClient(token: null);
        await anonymous.PostAsJsonAsync("/api/v1/tokens", new { email = "olivia@example.test", password = MistypedPassword, name = "x" });
        var client = App.CreateClient(new() { AllowAutoRedirect = false });
        await CookieSignIn.PostLoginAsync(client, "olivia@example.test", MistypedPassword);
        await CookieSignIn.SignInAsync(client, "olivia@example.test", OperatorPassword);

        // The relay password is used (the test relay offers no AUTH, so the attempt fails and is logged).
        await admin.PostAsJsonAsync($"/api/v1/addresses/{address.GetProperty("id").GetGuid()}/test", new { to = "someone@example.org" });

        // Webhook credentials: one right, one wrong.
        var hook = new HttpRequestMessage(HttpMethod.Post, "/api/v1/inbound/mime?recipient=nobody@inbound.localhost")
        {
            Content = new ByteArrayContent("Subject: x\r\n\r\nx"u8.ToArray()),
        };
        hook.Headers.Add("X-Webhook-Token", InboundApp.WebhookToken);
        await anonymous.SendAsync(hook);

        // What is at rest: the database (the SQLite file and its WAL, or every row on PostgreSQL) and every log file.
        List<(string Name, byte[] Bytes)> stores =
        [
            ("database", await App.Database.ContentAsync()),
            .. App.LogFiles(),
        ];
        Assert.Contains(stores, f => f.Name.EndsWith(".log"));
        var found = new List<string>();
        foreach (var (file, bytes) in stores)
            foreach (var (name, secret) in secrets.Append(new("PEM header", "PRIVATE KEY-----")))
                if (bytes.AsSpan().IndexOf(Encoding.Latin1.GetBytes(secret)) >= 0 || bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)) >= 0)
                    found.Add($"{name} in {file}");
        output.WriteLine($"{secrets.Count + 1} secrets searched in {stores.Count} stores ({stores.Sum(f => f.Bytes.Length) / 1024} KB): {found.Count} found " +
                         $"[{string.Join(", ", stores.Select(f => f.Name))}]");
        Assert.True(found.Count == 0, string.Join("\n", found));

        // The scan can see: the admin's email is stored and logged in plain text, so a plaintext secret would be too.
        Assert.True(stores[0].Bytes.AsSpan().IndexOf("olivia@example.test"u8) >= 0);
    }
}
