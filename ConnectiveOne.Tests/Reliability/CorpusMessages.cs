using System.IO.Compression;
using ConnectiveOne.Tests.TestSupport;

namespace ConnectiveOne.Tests.Reliability;

/// <summary>
/// Every message of the shared corpus that intake could meet: the files of mime/, bounce/, replies/ and
/// thread/chatwoot (test expectations in JSON, XML and Markdown left out), with mbox files split into their
/// messages, plus the mbox archives of thread/ (imaptest, the gzipped Fedora list month).
/// </summary>
public static class CorpusMessages
{
    private static readonly string[] Folders = ["mime", "bounce", "replies", "thread/chatwoot"];

    /// <summary>(name, bytes) in a fixed order; an mbox's messages are named <c>file#n</c>.</summary>
    public static IReadOnlyList<(string Name, byte[] Bytes)> Load()
    {
        var files = Folders
            .SelectMany(folder => Directory.EnumerateFiles(Corpus.PathOf(folder), "*", SearchOption.AllDirectories))
            .Where(f => Path.GetExtension(f) is not (".json" or ".xml" or ".md"))
            .Concat(Directory.EnumerateFiles(Corpus.PathOf("thread/imaptest"), "*.mbox"))
            .Append(Corpus.PathOf("thread/fedora-devel-2010-01/2010-January.txt.gz"))
            .Order(StringComparer.Ordinal);
        var messages = new List<(string, byte[])>();
        foreach (var file in files)
        {
            var name = Path.GetRelativePath(Corpus.Root, file);
            var bytes = file.EndsWith(".gz", StringComparison.Ordinal) ? Gunzip(file) : File.ReadAllBytes(file);
            if (IsMbox(name))
            {
                var n = 0;
                foreach (var message in SplitMbox(bytes))
                    messages.Add(($"{name}#{++n}", message));
            }
            else if (bytes.Length > 0)
            {
                messages.Add((name, bytes));
            }
        }
        return messages;
    }

    private static bool IsMbox(string name) =>
        name.EndsWith(".mbox", StringComparison.Ordinal) || name.EndsWith(".mbox.txt", StringComparison.Ordinal)
        || name.EndsWith(".txt.gz", StringComparison.Ordinal) || Path.GetFileName(name).StartsWith("mbox-", StringComparison.Ordinal);

    /// <summary>Splits at each "From " line that starts the file or follows a blank line (the mboxo/mboxrd convention).</summary>
    public static IEnumerable<byte[]> SplitMbox(byte[] mbox)
    {
        var starts = new List<int>();
        for (var i = 0; i < mbox.Length; i = NextLine(mbox, i))
        {
            if (mbox.AsSpan(i).StartsWith("From "u8) && (i == 0 || PreviousLineBlank(mbox, i)))
                starts.Add(i);
        }
        if (starts.Count == 0)
        {
            if (mbox.Length > 0)
                yield return mbox;
            yield break;
        }
        for (var s = 0; s < starts.Count; s++)
        {
            var end = s + 1 < starts.Count ? starts[s + 1] : mbox.Length;
            yield return mbox[starts[s]..end];
        }
    }

    private static int NextLine(byte[] bytes, int from)
    {
        var eol = Array.IndexOf(bytes, (byte)'\n', from);
        return eol < 0 ? bytes.Length : eol + 1;
    }

    private static bool PreviousLineBlank(byte[] bytes, int lineStart)
    {
        // lineStart follows '\n'; the previous line is blank when the byte before that '\n' is '\n' (or "\r\n" before it).
        var i = lineStart - 2;
        if (i >= 0 && bytes[i] == '\r')
            i--;
        return i < 0 || bytes[i] == '\n';
    }

    private static byte[] Gunzip(string file)
    {
        using var input = new GZipStream(File.OpenRead(file), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }
}
