using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Core.Inbound.Intake;

/// <summary>
/// Attachment contents, stored once per SHA-256 under <c>data/attachments/ab/cdef…</c>. Content is first
/// written to a temporary name (<see cref="Stage"/>, on the SMTP session's thread), then flushed to disk and
/// renamed (<see cref="FlushAsync"/>, by the intake writer just before the commit that refers to it), so a name
/// in the store always means complete, durable content, and one batch pays its fsyncs side by side.
/// </summary>
public sealed class AttachmentStore(IOptions<ConnectiveOneOptions> options)
{
    private readonly string _root = Path.Combine(options.Value.DataPath, "attachments");

    /// <summary>Content written but not yet durable: <see cref="TempFile"/> is null when the store already had it.</summary>
    public sealed record Staged(string Sha256, string? TempFile);

    /// <summary>Writes <paramref name="content"/> to a temporary file unless the store has it; not yet durable.</summary>
    public Staged Stage(ReadOnlySpan<byte> content)
    {
        var sha = Convert.ToHexStringLower(SHA256.HashData(content));
        var path = PathOf(sha);
        if (File.Exists(path))
            return new Staged(sha, null);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        using (var file = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write))
            RandomAccess.Write(file, content, 0);
        return new Staged(sha, temp);
    }

    /// <summary>Stores content durably at once (stage, flush, rename) and returns its SHA-256: for single writes such as a reply's attachments.</summary>
    public string Save(ReadOnlySpan<byte> content)
    {
        var staged = Stage(content);
        if (staged.TempFile is { } temp)
            Publish(temp, staged.Sha256);
        return staged.Sha256;
    }

    /// <summary>Makes staged files durable (fsync, side by side) and gives them their final names.</summary>
    public Task FlushAsync(IEnumerable<StoredAttachment> attachments)
    {
        var pending = attachments.Where(a => a.TempFile is not null).ToList();
        return pending.Count switch
        {
            0 => Task.CompletedTask,
            _ => Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = 16 }, (a, _) =>
            {
                Publish(a.TempFile!, a.Sha256);
                return ValueTask.CompletedTask;
            }),
        };
    }

    private void Publish(string temp, string sha)
    {
        var path = PathOf(sha);
        try
        {
            if (!File.Exists(temp))
                return; // an earlier attempt of the same batch already published it
            using (var file = File.OpenHandle(temp, FileMode.Open, FileAccess.Write))
                RandomAccess.FlushToDisk(file);
            File.Move(temp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another message carried the same content at the same moment: its copy is as good as ours.
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>The file of a stored SHA-256, or null when the hash is malformed or the file is missing.</summary>
    public string? Find(string sha256)
    {
        if (sha256.Length != 64 || !sha256.All(char.IsAsciiHexDigitLower))
            return null;
        var path = PathOf(sha256);
        return File.Exists(path) ? path : null;
    }

    private string PathOf(string sha) => Path.Combine(_root, sha[..2], sha[2..]);
}
