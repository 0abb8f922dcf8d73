using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;

namespace ConnectiveOne.Tests.TestSupport;

/// <summary>
/// The whole app in-process with a fresh data folder and its own database (<see cref="TestDatabase"/>: the SQLite file
/// in that folder, or a fresh PostgreSQL database in the PostgreSQL pass). By default it is bootstrapped with an admin
/// and an admin API token; pass <c>bootstrap: false</c> for a first-run instance. Call <see cref="StartKestrel"/> for a
/// real listening socket (browser tests).
/// </summary>
/// <remarks>
/// Two nodes of one installation: <c>new TestApp(shareWith: first)</c> uses <paramref name="shareWith"/>'s data folder
/// and database (on SQLite, the same file); the first app owns both and removes them when it is disposed, so dispose
/// the sharing app first (<c>await using</c> in declaration order does that).
/// </remarks>
public sealed class TestApp : WebApplicationFactory<Program>
{
    public const string AdminEmail = "admin@example.test";
    public const string AdminPassword = "admin-password-1";
    public const string AdminToken = "c1_test_bootstrap_token_0123456789abcdef";

    private readonly Dictionary<string, string?> _settings;
    private readonly bool _ownsData;

    public TestApp(bool bootstrap = true, IDictionary<string, string?>? settings = null, TestApp? shareWith = null)
        : this(bootstrap, settings, shareWith?.DataDirectory, shareWith?.Database)
    {
    }

    /// <summary>An app on a data folder and database that someone else owns (another app, <see cref="SharedNodes"/>) and removes.</summary>
    internal TestApp(bool bootstrap, IDictionary<string, string?>? settings, string? sharedDataDirectory, TestDatabase? sharedDatabase)
    {
        _ownsData = sharedDataDirectory is null;
        DataDirectory = sharedDataDirectory ?? Path.Combine(Path.GetTempPath(), "c1-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(DataDirectory);
        Database = sharedDatabase ?? TestDatabase.Create(DataDirectory, migrated: true);
        _settings = new Dictionary<string, string?>(Database.Settings)
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

    /// <summary>Changes to the app's services (e.g. an EF interceptor a test observes); set before the app starts.</summary>
    public Action<IServiceCollection>? TestServices { get; set; }

    /// <summary>This app's database (shared with the app it was created to share with, if any).</summary>
    public TestDatabase Database { get; }

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
        if (TestServices is { } configure)
            builder.ConfigureTestServices(configure);
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

    /// <summary>Every file in this app's <c>data/logs</c> as it is now, read while the app may still be writing it.</summary>
    public IReadOnlyList<(string Name, byte[] Bytes)> LogFiles()
    {
        var folder = Path.Combine(DataDirectory, "logs");
        if (!Directory.Exists(folder))
            return [];
        return Directory.GetFiles(folder).Order().Select(path =>
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return (Path.GetFileName(path), copy.ToArray());
        }).ToList();
    }

    /// <summary>Polls this app's log files for up to <paramref name="timeout"/> (10 s) until their text passes <paramref name="until"/>; returns the text.</summary>
    public async Task<string> WaitForLogsAsync(Func<string, bool> until, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var text = string.Concat(LogFiles().Select(f => Encoding.UTF8.GetString(f.Bytes)));
            if (until(text) || DateTime.UtcNow > deadline)
                return text;
            await Task.Delay(100);
        }
    }

    /// <summary>Names and sizes of the log files, for failure messages.</summary>
    public string DescribeLogFiles() =>
        LogFiles() is { Count: > 0 } files ? string.Join(", ", files.Select(f => $"{f.Name} {f.Bytes.Length} bytes")) : "no log files";

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
            DeleteDataAsync().AsTask().GetAwaiter().GetResult();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await DeleteDataAsync();
    }

    private bool _deleted;

    private async ValueTask DeleteDataAsync()
    {
        if (!_ownsData || _deleted)
            return;
        _deleted = true;
        await Database.DisposeAsync();
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
