using ConnectiveOne.Core.Inbound;
using MimeKit;

namespace ConnectiveOne.Tests.TestSupport;

/// <summary>
/// Finds the email corpus the tests read (<c>ConnectiveOne.Tests/corpus</c>: public test data copied from the shared
/// corpus, provenance and licences in its SOURCES.md) and loads messages from it.
/// </summary>
public static class Corpus
{
    private static readonly Lazy<string> _root = new(FindRoot);

    /// <summary>Absolute path of the corpus folder. Throws (failing the test) when it cannot be found.</summary>
    public static string Root => _root.Value;

    public static string PathOf(string relative) => System.IO.Path.Combine(Root, relative);

    public static IEnumerable<string> Files(string relativeFolder, string pattern) =>
        Directory.EnumerateFiles(PathOf(relativeFolder), pattern).Order(StringComparer.Ordinal);

    /// <summary>Parses a corpus file from its raw bytes, line endings untouched, the way intake parses stored mail.</summary>
    public static MimeMessage LoadMessage(string path) => RawMessageParser.Parse(File.ReadAllBytes(path));

    private static string FindRoot()
    {
        // Explicit override for runs from outside the repository tree.
        if (Environment.GetEnvironmentVariable("CONNECTIVEONE_CORPUS") is { Length: > 0 } configured)
        {
            return Directory.Exists(configured)
                ? configured
                : throw new InvalidOperationException($"CONNECTIVEONE_CORPUS points to '{configured}', which does not exist.");
        }
        // The test binaries run from ConnectiveOne.Tests/bin/<configuration>/<framework>/: the corpus is in the project folder, found from the repository's root.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "ConnectiveOne.Tests", "corpus");
            if (Directory.Exists(candidate))
                return candidate;
        }
        throw new InvalidOperationException(
            $"The email corpus was not found: no 'ConnectiveOne.Tests/corpus' folder in {AppContext.BaseDirectory} or any parent. " +
            "It is part of the repository; set CONNECTIVEONE_CORPUS to its path when the tests run from elsewhere.");
    }
}
