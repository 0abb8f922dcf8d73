using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Core.Inbound.Intake;

/// <summary>
/// Attachment contents, stored once per SHA-256 under <c>data/attachments/ab/cdef…</c>. A file is written to a
/// temporary name, flushed to disk and renamed, so a name in the store always means complete content; intake
/// does this before the database commit that refers to it.
/// </summary>
public sealed class AttachmentStore(IOptions<ConnectiveOneOptions> options)
{
    private readonly string _root = Path.Combine(options.Value.DataPath, "attachments");

    /// <summary>Stores <paramref name="content"/> (if not already there) and returns its lower-case hex SHA-256.</summary>
    public string Save(ReadOnlySpan<byte> content)
    {
        var sha = Convert.ToHexStringLower(SHA256.HashData(content));
        var path = PathOf(sha);
        if (File.Exists(path))
            return sha;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.None))
            {
                file.Write(content);
                file.Flush(flushToDisk: true);
            }
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
        return sha;
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
