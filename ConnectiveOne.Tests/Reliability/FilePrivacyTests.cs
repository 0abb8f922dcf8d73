using System.Text;
using System.Text.RegularExpressions;
using ConnectiveOne.Tests.TestSupport;

namespace ConnectiveOne.Tests.Reliability;

/// <summary>
/// Secrets stay with the user the app runs as (issue #12): after a start under the usual umask 022 the data folder is
/// 0700 and the database, its WAL and SHM, the Data Protection keys, the setup token and the logs are 0600, including
/// a file an older version left readable; the first-run setup link goes to the console, never to the log file.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // file modes are a Unix notion; the app skips them on Windows
public sealed partial class FilePrivacyTests
{
    private const UnixFileMode PrivateFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [SqliteFact]
    [Trait("Database", "Sqlite")] // The database file, its WAL and SHM and the key files exist only on SQLite.
    public async Task After_a_start_the_data_folder_and_every_file_in_it_are_private_to_the_app_user()
    {
        await using var app = new AppProcess { Umask = "022" };
        File.SetUnixFileMode(app.DataDirectory, PrivateFolder | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var older = Path.Combine(app.DataDirectory, "logs", "connectiveone-20250101.log");
        Directory.CreateDirectory(Path.GetDirectoryName(older)!);
        await File.WriteAllTextAsync(older, "left by an older version\n");
        File.SetUnixFileMode(older, PrivateFile | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        await app.StartAsync();
        // The sign-in form carries an antiforgery token, so the Data Protection key ring is written by now.
        using (var http = new HttpClient())
            (await http.GetAsync($"{app.BaseUrl}/account/login")).EnsureSuccessStatusCode();

        var db = Path.Combine(app.DataDirectory, "connectiveone.db");
        var expected = new[] { db, db + "-wal", db + "-shm", older };
        foreach (var path in expected)
            Assert.True(File.Exists(path), $"{path} does not exist after a start");
        var keys = Directory.GetFiles(Path.Combine(app.DataDirectory, "keys"));
        var logs = Directory.GetFiles(Path.Combine(app.DataDirectory, "logs")).Where(f => f != older).ToList();
        Assert.NotEmpty(keys);
        Assert.NotEmpty(logs);

        Assert.Equal(PrivateFolder, File.GetUnixFileMode(app.DataDirectory));
        var modes = Directory.EnumerateFileSystemEntries(app.DataDirectory, "*", SearchOption.AllDirectories)
            .Select(path => (Path: Path.GetRelativePath(app.DataDirectory, path), Mode: File.GetUnixFileMode(path),
                Wanted: Directory.Exists(path) ? PrivateFolder : PrivateFile))
            .ToList();
        var open = modes.Where(m => m.Mode != m.Wanted).Select(m => $"{m.Path} {Convert.ToString((int)m.Mode, 8)}").ToList();
        Assert.True(open.Count == 0, $"Not private: {string.Join(", ", open)} (of {string.Join(", ", modes.Select(m => m.Path))})");
    }

    [Fact]
    public async Task The_first_run_setup_link_is_printed_on_the_console_and_never_written_to_the_log_file()
    {
        await using var app = new AppProcess { Umask = "022" };
        // A first run: nobody bootstrapped.
        app.Environment["ConnectiveOne__Bootstrap__AdminEmail"] = "";
        app.Environment["ConnectiveOne__Bootstrap__AdminPassword"] = "";
        app.Environment["ConnectiveOne__Bootstrap__ApiToken"] = "";
        await app.StartAsync();

        var output = await app.WaitForOutputAsync(o => SetupLink().IsMatch(o), TimeSpan.FromSeconds(30));
        var link = SetupLink().Match(output);
        Assert.True(link.Success, $"The console shows no setup link:\n{output}");
        Assert.StartsWith($"{app.BaseUrl}/setup/first-admin?token=", link.Value);
        var tokenFile = Path.Combine(app.DataDirectory, "setup-token");
        var token = link.Groups["token"].Value;
        Assert.Equal((await File.ReadAllTextAsync(tokenFile)).Trim(), token);
        Assert.Equal(PrivateFile, File.GetUnixFileMode(tokenFile));

        // The log's own line about it, written by the same code just before the console line, is the signal that
        // the log has had its chance to leak the token.
        var logs = "";
        for (var deadline = DateTime.UtcNow.AddSeconds(10); !logs.Contains("printed on the console") && DateTime.UtcNow < deadline; await Task.Delay(100))
            logs = ReadLogs(app.DataDirectory);
        Assert.Contains("printed on the console", logs);
        Assert.Contains(tokenFile, logs);
        Assert.DoesNotContain(token, logs);
        Assert.DoesNotContain("/setup/first-admin", logs);
    }

    private static string ReadLogs(string dataDirectory)
    {
        var folder = Path.Combine(dataDirectory, "logs");
        if (!Directory.Exists(folder))
            return "";
        var text = new StringBuilder();
        foreach (var path in Directory.GetFiles(folder))
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            text.Append(new StreamReader(stream).ReadToEnd());
        }
        return text.ToString();
    }

    [GeneratedRegex(@"http://\S+/setup/first-admin\?token=(?<token>[a-z0-9]+)")]
    private static partial Regex SetupLink();
}
