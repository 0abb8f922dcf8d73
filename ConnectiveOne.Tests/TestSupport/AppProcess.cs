using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ConnectiveOne.Tests.TestSupport;

/// <summary>
/// The app as a real separate process (<c>dotnet ConnectiveOne.Console.dll</c> from the test's bin folder), for
/// tests that must kill it hard. Ports are picked free on 127.0.0.1; the data folder and the database
/// (<see cref="TestDatabase"/>) survive a restart.
/// </summary>
public sealed class AppProcess : IAsyncDisposable
{
    private Process? _process;

    private readonly bool _ownsData;

    public AppProcess()
        : this(null, null)
    {
    }

    /// <summary>A node on a data folder and database that <see cref="SharedNodes"/> owns (kept when this process goes).</summary>
    internal AppProcess(string? sharedDataDirectory, TestDatabase? sharedDatabase)
    {
        _ownsData = sharedDataDirectory is null;
        DataDirectory = sharedDataDirectory ?? Path.Combine(Path.GetTempPath(), "c1-tests", "proc-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(DataDirectory);
        Database = sharedDatabase ?? TestDatabase.Create(DataDirectory);
        HttpPort = FreePort();
        SmtpPort = FreePort();
    }

    public string DataDirectory { get; }
    public int HttpPort { get; }
    public int SmtpPort { get; }
    public string BaseUrl => $"http://127.0.0.1:{HttpPort}";
    public TestDatabase Database { get; }

    /// <summary>The app's process id once started (<c>dotnet</c> runs the app in its own process), e.g. to read its memory.</summary>
    public int ProcessId => _process?.Id ?? throw new InvalidOperationException("The app is not started.");
    public Dictionary<string, string> Environment { get; } = new();

    /// <summary>
    /// The umask the app starts with (e.g. <c>"022"</c>, a usual login default); null inherits this test process's,
    /// which an in-process app may have tightened already.
    /// </summary>
    public string? Umask { get; init; }

    /// <summary>
    /// For an app killed within seconds of each start, as in the crash tests: it runs without tier-1 recompilation
    /// (<c>DOTNET_TC_CallCounting=0</c>), so each method keeps the code it started with (ReadyToRun or quick JIT).
    /// The recompilation of methods called often during start only pays back in a process that lives on; here it
    /// was a third of each life's CPU (4.0 s instead of 5.9 s from start to 3 s after /health, medians of 6 starts
    /// each on the shared 2-core machine). The app's code and what it does are the same; only the JIT tier differs.
    /// </summary>
    public bool ShortLived { get; init; }

    private readonly System.Text.StringBuilder _output = new();

    /// <summary>What the app has written to its standard output so far (every start).</summary>
    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    /// <summary>Polls <see cref="Output"/> for up to <paramref name="timeout"/> until it passes <paramref name="until"/>; returns it.</summary>
    public async Task<string> WaitForOutputAsync(Func<string, bool> until, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var text = Output;
            if (until(text) || DateTime.UtcNow > deadline)
                return text;
            await Task.Delay(100);
        }
    }

    /// <summary>Starts the app and waits until <c>/health</c> answers 200.</summary>
    public async Task StartAsync(TimeSpan? timeout = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "ConnectiveOne.Console.dll");
        // exec keeps the app as the started process, so a kill reaches it.
        var start = Umask is null ? new ProcessStartInfo("dotnet", [dll]) : new ProcessStartInfo("/bin/sh", ["-c", $"umask {Umask} && exec dotnet \"$0\"", dll]);
        start.WorkingDirectory = AppContext.BaseDirectory;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        start.Environment["ASPNETCORE_URLS"] = BaseUrl;
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ConnectiveOne__DataDirectory"] = DataDirectory;
        start.Environment["ConnectiveOne__Smtp__Listen"] = $"127.0.0.1:{SmtpPort}";
        start.Environment["ConnectiveOne__Bootstrap__AdminEmail"] = TestApp.AdminEmail;
        start.Environment["ConnectiveOne__Bootstrap__AdminPassword"] = TestApp.AdminPassword;
        start.Environment["ConnectiveOne__Bootstrap__ApiToken"] = TestApp.AdminToken;
        if (ShortLived)
            start.Environment["DOTNET_TC_CallCounting"] = "0";
        foreach (var (key, value) in Database.Settings)
            start.Environment[key.Replace(":", "__")] = value;
        foreach (var (key, value) in Environment)
            start.Environment[key] = value;
        _process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (_output)
                _output.AppendLine(e.Data);
        };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        // 120 s: a liveness bound, not a speed target. A first start on a fresh PostgreSQL database migrates it, and in
        // CI that start shares two cores with browser tests and other apps (60 s was exceeded there once).
        var limit = timeout ?? TimeSpan.FromSeconds(120);
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"The app exited with code {_process.ExitCode} during start.");
            try
            {
                if ((await http.GetAsync($"{BaseUrl}/health")).StatusCode == HttpStatusCode.OK)
                    return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        string output;
        lock (_output)
            output = string.Join('\n', _output.ToString().Split('\n').TakeLast(30));
        throw new TimeoutException($"The app did not answer /health within {limit.TotalSeconds:F0} s. The end of its output:\n{output}");
    }

    /// <summary>SIGKILL: no shutdown code runs, as in a crash or power cut of the process.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
        if (!_ownsData)
            return;
        await Database.DisposeAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
