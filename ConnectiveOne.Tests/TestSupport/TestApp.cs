using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ConnectiveOne.Tests.TestSupport;

/// <summary>
/// The whole app in-process with its own SQLite file in a fresh data folder. By default it is bootstrapped
/// with an admin and an admin API token; pass <c>bootstrap: false</c> for a first-run instance.
/// Call <see cref="StartKestrel"/> for a real listening socket (browser tests).
/// </summary>
public sealed class TestApp : WebApplicationFactory<Program>
{
    public const string AdminEmail = "admin@example.test";
    public const string AdminPassword = "admin-password-1";
    public const string AdminToken = "c1_test_bootstrap_token_0123456789abcdef";

    private readonly Dictionary<string, string?> _settings;
    private readonly bool _ownsData;

    /// <param name="dataDirectory">A data folder shared with other nodes (see <see cref="SharedNodes"/>), kept on dispose.</param>
    public TestApp(bool bootstrap = true, IDictionary<string, string?>? settings = null, string? dataDirectory = null)
    {
        _ownsData = dataDirectory is null;
        DataDirectory = dataDirectory ?? Path.Combine(Path.GetTempPath(), "c1-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(DataDirectory);
        _settings = new Dictionary<string, string?>
        {
            ["ConnectiveOne:DataDirectory"] = DataDirectory,
            ["ConnectiveOne:Smtp:Listen"] = "off",
        };
        if (bootstrap)
        {
            _settings["ConnectiveOne:Bootstrap:AdminEmail"] = AdminEmail;
            _settings["ConnectiveOne:Bootstrap:AdminPassword"] = AdminPassword;
            _settings["ConnectiveOne:Bootstrap:ApiToken"] = AdminToken;
        }
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            _settings[key] = value;
    }

    public string DataDirectory { get; }

    /// <summary>The base address of the real server after <see cref="StartKestrel"/>, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string ServerAddress => Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!
        .Addresses.First().TrimEnd('/');

    /// <summary>Listens on a free port on 127.0.0.1 with Kestrel, so a browser can connect.</summary>
    public TestApp StartKestrel()
    {
        UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        StartServer();
        ClientOptions.BaseAddress = new Uri(ServerAddress);
        return this;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        // Framework and MudBlazor files come from the build's static web assets manifest, which only Development
        // loads by itself; without it a browser gets pages without scripts or styles.
        builder.UseStaticWebAssets();
        foreach (var (key, value) in _settings)
            builder.UseSetting(key, value);
    }

    public HttpClient CreateApiClient(string? token = AdminToken)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = ClientOptions.BaseAddress });
        if (token is not null)
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Creates a user through the API and returns a token of theirs.</summary>
    public async Task<string> CreateUserWithTokenAsync(string email, string role, string password = "user-password-1")
    {
        var admin = CreateApiClient();
        var created = await admin.PostAsJsonAsync("/api/v1/users", new { email, password, role });
        created.EnsureSuccessStatusCode();
        var anonymous = CreateApiClient(token: null);
        var token = await anonymous.PostAsJsonAsync("/api/v1/tokens", new { email, password, name = "test" });
        token.EnsureSuccessStatusCode();
        return (await token.Content.ReadFromJsonAsync<TokenResponse>())!.Token;
    }

    public sealed record TokenResponse(string Token);

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        TryDeleteData();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        TryDeleteData();
    }

    private void TryDeleteData()
    {
        if (!_ownsData)
            return;
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A log file may still be flushing; the temp folder is cleaned by the OS.
        }
    }
}
