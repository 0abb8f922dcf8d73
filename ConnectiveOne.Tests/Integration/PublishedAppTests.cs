using System.Diagnostics;
using System.Net;
using ConnectiveOne.Tests.TestSupport;

namespace ConnectiveOne.Tests.Integration;

/// <summary>
/// The README's publish command gives a self-contained single file that starts from an empty folder
/// (no SDK needed: it carries its runtime) and serves the health check, the login page and its browser files.
/// </summary>
[Trait("Database", "Sqlite")] // the single file on its defaults: SQLite in ./data of the folder it starts in
[RunsLong(50)]
public sealed class PublishedAppTests
{
    [SqliteFact]
    public async Task The_single_file_publish_starts_from_an_empty_folder_and_serves_the_ui()
    {
        var output = Path.Combine(Path.GetTempPath(), "c1-publish", Guid.NewGuid().ToString("N"));
        var empty = Path.Combine(Path.GetTempPath(), "c1-empty", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(empty);
        // The PATH it starts with: a folder of its own with nothing in it. The single file needs no program from
        // PATH, and above all no dotnet (which is in /usr/bin on many machines, so "/usr/bin:/bin" would not do).
        var path = Path.Combine(Path.GetTempPath(), "c1-path", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        try
        {
            // The README's command as it stands, without the code analyzers (RunAnalyzers=false from the environment): they
            // only report and add no code (source generators, e.g. Razor's, still run), so the single file comes out byte
            // for byte the same (compared: sha256 of both executables equal), and the test build has already run them
            // on these sources with warnings as errors. They were half the publish's CPU: 141 s with them, 73 s without.
            var publish = await RunAsync("dotnet", ["publish", "ConnectiveOne.Console", "-c", "Release", "-r", "linux-x64",
                "--self-contained", "-p:PublishSingleFile=true", "-o", output, "-nologo"], Repository.Root, TimeSpan.FromMinutes(8),
                new Dictionary<string, string> { ["RunAnalyzers"] = "false" });
            Assert.True(publish.ExitCode == 0, "dotnet publish failed:\n" + publish.Output);

            var executable = Path.Combine(output, "ConnectiveOne.Console");
            Assert.True(File.Exists(executable), "no executable in " + output);
            Assert.Empty(Directory.GetFiles(output, "*.dll"));
            Assert.Empty(Directory.GetFiles(output, "*.so"));

            var port = FreePort.Next();
            var start = new ProcessStartInfo(executable)
            {
                WorkingDirectory = empty,
                Environment =
                {
                    ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
                    ["ConnectiveOne__Smtp__Listen"] = "off",
                    // No SDK and no runtime to be found: the single file must carry its runtime.
                    ["DOTNET_ROOT"] = "/nonexistent",
                    ["PATH"] = path,
                },
            };
            Assert.DoesNotContain(start.Environment["PATH"]!.Split(':'), dir => File.Exists(Path.Combine(dir, "dotnet")));
            using var process = Process.Start(start)!;
            try
            {
                using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
                Assert.True(await WaitHealthyAsync(http), "the published app did not answer /health");
                var login = await http.GetAsync("/account/login");
                Assert.Equal(HttpStatusCode.OK, login.StatusCode);
                Assert.Contains("Sign in", await login.Content.ReadAsStringAsync());
                Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/_content/MudBlazor/MudBlazor.min.css")).StatusCode);
                Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/_framework/blazor.web.js")).StatusCode);
                Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/assets/app.css")).StatusCode);
                Assert.True(File.Exists(Path.Combine(empty, "data", "connectiveone.db")), "the database belongs in ./data of the working folder");
            }
            finally
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
        finally
        {
            TryDelete(output);
            TryDelete(empty);
            TryDelete(path);
        }
    }

    private static async Task<bool> WaitHealthyAsync(HttpClient http)
    {
        for (var i = 0; i < 120; i++)
        {
            try
            {
                if ((await http.GetAsync("/health")).IsSuccessStatusCode)
                    return true;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(250);
        }
        return false;
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, string[] args, string directory, TimeSpan limit,
        Dictionary<string, string> environment)
    {
        var info = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        foreach (var (key, value) in environment)
            info.Environment[key] = value;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(limit);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    private static void TryDelete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
