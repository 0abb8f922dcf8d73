using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Core.Tickets;

/// <summary>
/// Attachment contents, stored once per SHA-256 at <c>data/attachments/ab/&lt;sha&gt;</c>. A file is written to a
/// temporary name, flushed to disk and renamed, so a crash never leaves a half-written file under a valid hash.
/// </summary>
public sealed class AttachmentStore(IOptions<ConnectiveOneOptions> options)
{
    public string Root => Path.Combine(options.Value.DataPath, "attachments");

    /// <summary>Stores the bytes (if not there already) and returns their lower-case hex SHA-256.</summary>
    public async Task<string> SaveAsync(ReadOnlyMemory<byte> content, CancellationToken ct)
    {
        var sha = Convert.ToHexStringLower(SHA256.HashData(content.Span));
        var path = PathOf(sha);
        if (File.Exists(path))
            return sha;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
            {
                await file.WriteAsync(content, ct);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }
        return sha;
    }

    public string PathOf(string sha256) => Path.Combine(Root, sha256[..2], sha256);
}
