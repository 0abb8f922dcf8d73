using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Core.Inbound.Intake;

/// <summary>
/// Files in the data folder (<c>spool/</c>) that hold a large inbound message, and its decoded attachments, on its way
/// into the database, so that intake does not copy it in memory several times over (SMTP data, MIME parse, decoded
/// attachment, database parameters). Each file is deleted when it is closed; files a crash left are removed at start.
/// </summary>
public sealed class MessageSpool(IOptions<ConnectiveOneOptions> options, ILogger<MessageSpool> logger)
{
    private readonly string _folder = Path.Combine(options.Value.DataPath, "spool");

    /// <summary>Removes spool files left by a process that stopped without closing them (they held nothing committed).</summary>
    public void DeleteLeftovers()
    {
        if (!Directory.Exists(_folder))
            return;
        foreach (var file in Directory.EnumerateFiles(_folder, "*.spool"))
        {
            try
            {
                File.Delete(file);
            }
            catch (IOException ex)
            {
                logger.LogWarning(ex, "Left-over spool file {File} could not be deleted", file);
            }
        }
    }

    /// <summary>A new, empty spool file, open for writing and reading; deleted when disposed.</summary>
    public SpoolFile Create()
    {
        Directory.CreateDirectory(_folder);
        var fileOptions = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.None,
            Options = FileOptions.DeleteOnClose,
            BufferSize = 64 * 1024, // the pipe's 4 KB segments and MimeKit's 4 KB reads in fewer system calls (below the LOH size)
        };
        if (!OperatingSystem.IsWindows())
            fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        return new SpoolFile(new FileStream(Path.Combine(_folder, Guid.NewGuid().ToString("N") + ".spool"), fileOptions));
    }
}

/// <summary>
/// One spool file of the <see cref="MessageSpool"/>: written once, then read from the start as often as needed (MIME
/// parse with persistent content, hashing, the database insert). Used by one thread at a time: the session prepares,
/// then the intake writer inserts. Disposing deletes the file.
/// </summary>
public sealed class SpoolFile(FileStream file) : IDisposable
{
    /// <summary>The file itself, e.g. for MimeKit to parse with persistent content (which reads it again later).</summary>
    internal FileStream Stream => file;

    public long Length => file.Length;

    public void Write(ReadOnlySequence<byte> data)
    {
        foreach (var segment in data)
            file.Write(segment.Span);
    }

    public void Write(ReadOnlySpan<byte> data) => file.Write(data);

    /// <summary>The stream, positioned at the start, for one reader to read to the end.</summary>
    public Stream Rewound()
    {
        file.Position = 0;
        return file;
    }

    /// <summary>Lower-case hex SHA-256 of the whole content.</summary>
    public string Sha256() => Convert.ToHexStringLower(SHA256.HashData(Rewound()));

    public void Dispose() => file.Dispose();
}
