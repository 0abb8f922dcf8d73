using System.Runtime.InteropServices;
using ConnectiveOne.Core;

namespace ConnectiveOne.Console;

/// <summary>
/// Keeps the data folder to this user: it holds the database (mail, password hashes, API token hashes), the Data
/// Protection keys (cookies, DKIM keys), the setup token and the logs, which other local users must not read. New
/// files get 0600 and folders 0700 through the process umask; files left by an older version are tightened at start.
/// </summary>
internal static class FilePrivacy
{
    private const UnixFileMode PrivateFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>umask 077, before anything creates a file: SQLite, Serilog and Data Protection create theirs with 0644 otherwise.</summary>
    public static void RestrictNewFiles()
    {
        if (!OperatingSystem.IsWindows())
            _ = Umask(0x3F);
    }

    /// <summary>Makes the data folder 0700 and everything already in it 0700 (folders) or 0600 (files).</summary>
    public static void RestrictDataFolder(IConfiguration configuration)
    {
        if (OperatingSystem.IsWindows())
            return;
        var folder = Path.GetFullPath(configuration[$"{ConnectiveOneOptions.Section}:DataDirectory"] ?? "./data");
        try
        {
            Directory.CreateDirectory(folder);
            File.SetUnixFileMode(folder, PrivateFolder);
            foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos("*", SearchOption.AllDirectories))
            {
                // A link points outside what this app owns; its target keeps its own mode.
                if (entry.LinkTarget is not null)
                    continue;
                entry.UnixFileMode = entry is DirectoryInfo ? PrivateFolder : PrivateFile;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Logging is not set up yet; a file owned by someone else is worth a line, not a refusal to start.
            System.Console.Error.WriteLine($"Could not make {folder} private to this user: {ex.Message}");
        }
    }

    // DllImport, not LibraryImport: the latter needs unsafe code enabled for the whole project, for one blittable call.
    [DllImport("libc", EntryPoint = "umask")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern uint Umask(uint mask);
}
