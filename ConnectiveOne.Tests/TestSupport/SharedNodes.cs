namespace ConnectiveOne.Tests.TestSupport;

/// <summary>
/// Several app instances ("nodes") that share what nodes share in production: one database, one data folder and
/// one Redis. The database is the suite's (<see cref="TestDatabase"/>): on SQLite the file in the shared data folder
/// (WAL works across processes), in the PostgreSQL pass one fresh database. This owns and removes all three.
/// </summary>
public sealed class SharedNodes : IAsyncDisposable
{
    private SharedNodes(RedisServer redis)
    {
        Redis = redis;
        DataDirectory = Path.Combine(Path.GetTempPath(), "c1-tests", "nodes-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(DataDirectory);
        Database = TestDatabase.Create(DataDirectory);
    }

    public TestDatabase Database { get; }

    public RedisServer Redis { get; }
    public string DataDirectory { get; }

    public static async Task<SharedNodes> StartAsync() => new(await RedisServer.StartAsync());

    /// <summary>The settings every node gets, plus its own name.</summary>
    public Dictionary<string, string?> SettingsFor(string nodeName, IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>(Database.Settings)
        {
            ["ConnectiveOne:DataDirectory"] = DataDirectory,
            ["ConnectiveOne:Redis"] = Redis.Configuration,
            ["ConnectiveOne:NodeName"] = nodeName,
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
            settings[key] = value;
        return settings;
    }

    /// <summary>A node in this process (WebApplicationFactory), bootstrapped like <see cref="TestApp"/>.</summary>
    public TestApp App(string nodeName, IDictionary<string, string?>? extra = null) =>
        new(true, SettingsFor(nodeName, extra), DataDirectory, Database);

    /// <summary>A node with inbound SMTP and the webhooks on, in this process.</summary>
    public InboundApp Inbound(string nodeName, IDictionary<string, string?>? extra = null) =>
        new(SettingsFor(nodeName, extra), DataDirectory, Database);

    /// <summary>A node as a separate process, for kill -9.</summary>
    public AppProcess Process(string nodeName, IDictionary<string, string?>? extra = null)
    {
        var process = new AppProcess(DataDirectory, Database);
        foreach (var (key, value) in SettingsFor(nodeName, extra))
            process.Environment[key.Replace(":", "__")] = value ?? "";
        return process;
    }

    /// <summary>Polls an in-memory condition that another node's message makes true, for up to 20 s (or <paramref name="timeout"/>).</summary>
    public static async Task WaitForAsync(Func<bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("The other node's change did not arrive in time.");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Redis.DisposeAsync();
        await Database.DisposeAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
