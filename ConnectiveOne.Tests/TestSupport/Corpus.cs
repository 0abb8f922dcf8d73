using MimeKit;

namespace ConnectiveOne.Tests.TestSupport;

/// <summary>Finds the shared email corpus (shared/corpus beside or above the repository) and loads messages from it.</summary>
public static class Corpus
{
    private static readonly Lazy<string> _root = new(FindRoot);

    /// <summary>Absolute path of shared/corpus. Throws (failing the test) when it cannot be found.</summary>
    public static string Root => _root.Value;

    public static string PathOf(string relative) => System.IO.Path.Combine(Root, relative);

    public static IEnumerable<string> Files(string relativeFolder, string pattern) =>
        Directory.EnumerateFiles(PathOf(relativeFolder), pattern).Order(StringComparer.Ordinal);

    /// <summary>
    /// Parses a message from raw bytes (line endings untouched). A leading mbox "From " line is skipped:
    /// the SMTP listener never sees one, and it is not a header.
    /// </summary>
    public static MimeMessage LoadMessage(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var start = 0;
        if (bytes.AsSpan().StartsWith("From "u8))
        {
            var eol = bytes.AsSpan().IndexOfAny((byte)'\n', (byte)'\r');
            start = eol < 0 ? bytes.Length : eol + 1;
            if (eol >= 0 && bytes[eol] == '\r' && start < bytes.Length && bytes[start] == '\n')
                start++;
        }
        using var stream = new MemoryStream(bytes, start, bytes.Length - start, writable: false);
        return MimeMessage.Load(stream);
    }

    private static string FindRoot()
    {
        // Explicit override for runs from outside the repository tree.
        if (Environment.GetEnvironmentVariable("CONNECTIVEONE_CORPUS") is { Length: > 0 } configured)
        {
            return Directory.Exists(configured)
                ? configured
                : throw new InvalidOperationException($"CONNECTIVEONE_CORPUS points to '{configured}', which does not exist.");
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "shared", "corpus");
            if (Directory.Exists(candidate))
                return candidate;
        }
        throw new InvalidOperationException(
            $"The email corpus was not found: no 'shared/corpus' folder in {AppContext.BaseDirectory} or any parent. " +
            "Put the shared folder beside the repository (<repo>/../shared/corpus).");
    }
}
