using ConnectiveOne.Tests.TestSupport;

namespace ConnectiveOne.Tests.Reliability;

/// <summary>One hostile HTML snippet from <c>data/xss-vectors.txt</c>, with its id filled in.</summary>
public sealed record XssVector(string Id, string Html);

/// <summary>
/// The OWASP filter-evasion and mutation-XSS vectors of <c>Reliability/data/xss-vectors.txt</c>. Each one, if it ran or
/// leaked, would show its id: in a dialog, in <c>window.top.pwned</c>, or in a request to <see cref="TrackerHost"/>.
/// </summary>
public static class XssVectors
{
    public const string TrackerHost = "tracker.example";

    public static IReadOnlyList<XssVector> All { get; } = Load();

    private static List<XssVector> Load()
    {
        var path = Path.Combine(Repository.Root, "ConnectiveOne.Tests", "Reliability", "data", "xss-vectors.txt");
        var vectors = new List<XssVector>();
        foreach (var line in File.ReadLines(path))
        {
            if (line.Trim().Length == 0 || line.TrimStart().StartsWith('#'))
                continue;
            var id = $"v{vectors.Count + 1:000}";
            var html = line.Replace("XSS", id).Replace("{T}", $"http://{TrackerHost}/{id}")
                .Replace("{TAB}", "\t").Replace("{LF}", "\n").Replace("{CR}", "\r").Replace("{NUL}", "\0");
            vectors.Add(new XssVector(id, html));
        }
        return vectors;
    }
}
