using System.Buffers;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace ConnectiveOne.Console.Api;

/// <summary>
/// Mailgun's "store and notify" form, read as a stream: the signature fields and the recipient are kept in memory
/// (each at most <see cref="FieldLimit"/> bytes), <c>body-mime</c> is spooled to a temporary file in the data folder's
/// <c>spool</c> beyond 32 KB (where the free-disk floor counts it, not the system's temp folder, which may be memory) and
/// bounded by the message limit, every other field is read past without being kept. The signature travels inside the
/// form, so an unauthenticated request costs at most a temporary file and a few small buffers, never the message in
/// memory; when the signature fields come before the message, a bad signature is refused before the message is read.
/// </summary>
internal sealed class MailgunForm : IAsyncDisposable
{
    public const int FieldLimit = 16 * 1024;
    private static readonly string[] KeptFields = ["recipient", "timestamp", "token", "signature"];

    private readonly Dictionary<string, string> _fields = new(StringComparer.Ordinal);
    private readonly string _spoolDirectory;
    private FileBufferingWriteStream? _mime;

    private MailgunForm(string spoolDirectory) => _spoolDirectory = spoolDirectory;

    /// <summary>Where spooled forms go: a folder of the data folder (0700 like the rest of it).</summary>
    public static string SpoolDirectory(string dataPath) => Path.Combine(dataPath, "spool");

    public string this[string name] => _fields.GetValueOrDefault(name, "");

    public bool HasMime => _mime is { Length: > 0 };

    /// <summary>What stopped the reading: the status to answer and its words; null when the whole form was read.</summary>
    public (int Status, string Title)? Refused { get; private set; }

    /// <summary>
    /// Reads <paramref name="request"/>'s form. <paramref name="checkSignature"/> runs once timestamp, token and signature
    /// are known and <c>body-mime</c> is not yet read: a non-null answer stops reading with 401 and those words.
    /// </summary>
    public static async Task<MailgunForm> ReadAsync(HttpRequest request, string spoolDirectory, long maxMessageBytes, long maxBodyBytes,
        Func<MailgunForm, string?> checkSignature, CancellationToken ct)
    {
        var form = new MailgunForm(spoolDirectory);
        try
        {
            if (request.ContentLength > maxBodyBytes)
                form.Refuse(StatusCodes.Status413PayloadTooLarge, TooLarge(maxMessageBytes));
            else if (request.HasFormContentType && IsMultipart(request, out var boundary))
                await form.ReadMultipartAsync(request.Body, boundary, maxMessageBytes, maxBodyBytes, checkSignature, ct);
            else if (request.HasFormContentType)
                await form.ReadUrlEncodedAsync(request.Body, maxMessageBytes, maxBodyBytes, checkSignature, ct);
            else
                form.Refuse(StatusCodes.Status400BadRequest, "Mailgun posts a form (multipart/form-data or application/x-www-form-urlencoded).");
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            form.Refuse(StatusCodes.Status413PayloadTooLarge, TooLarge(maxMessageBytes));
        }
        catch (InvalidDataException)
        {
            form.Refuse(StatusCodes.Status400BadRequest, "The form could not be read: its multipart structure is broken.");
        }
        catch
        {
            // The client went away or the read was cancelled: nobody else holds the form, so its spool file goes now.
            await form.DisposeAsync();
            throw;
        }
        return form;
    }

    /// <summary>The spooled <c>body-mime</c> as bytes, for intake (only called once the signature was accepted).</summary>
    public async Task<byte[]> MimeBytesAsync(CancellationToken ct)
    {
        if (_mime is null)
            return [];
        using var bytes = new MemoryStream((int)_mime.Length);
        await _mime.DrainBufferAsync(bytes, ct);
        return bytes.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        if (_mime is not null)
            await _mime.DisposeAsync();
    }

    private static string FieldTooLong(string name) => $"The form field '{name}' is longer than {FieldLimit} bytes.";

    private static string TooLarge(long limit) => $"The message is larger than the limit of {limit} bytes.";

    private void Refuse(int status, string title) => Refused ??= (status, title);

    private bool SignatureKnown => _fields.ContainsKey("timestamp") && _fields.ContainsKey("token") && _fields.ContainsKey("signature");

    /// <summary>Where a field's bytes go: kept (small fields), spooled (<c>body-mime</c>), or nowhere.</summary>
    private Stream? TargetFor(string name, long maxMessageBytes, Func<MailgunForm, string?> checkSignature)
    {
        if (KeptFields.Contains(name))
            return new MemoryStream();
        if (name != "body-mime" || _mime is not null)
            return null;
        if (SignatureKnown && checkSignature(this) is { } problem)
        {
            Refuse(StatusCodes.Status401Unauthorized, problem);
            return null;
        }
        return _mime = new FileBufferingWriteStream(bufferLimit: maxMessageBytes, tempFileDirectoryAccessor: () =>
        {
            Directory.CreateDirectory(_spoolDirectory);
            return _spoolDirectory;
        });
    }

    /// <summary>Stores a kept field; false (and refused) when it is over <see cref="FieldLimit"/>.</summary>
    private bool Keep(string name, Stream? target)
    {
        if (target is not MemoryStream kept)
            return true;
        if (kept.Length > FieldLimit)
        {
            Refuse(StatusCodes.Status400BadRequest, FieldTooLong(name));
            return false;
        }
        _fields[name] = System.Text.Encoding.UTF8.GetString(kept.GetBuffer(), 0, (int)kept.Length);
        return true;
    }

    private static bool IsMultipart(HttpRequest request, out string boundary)
    {
        boundary = "";
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
            || !type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            return false;
        boundary = HeaderUtilities.RemoveQuotes(type.Boundary).ToString();
        if (boundary.Length is 0 or > 200)
            throw new InvalidDataException("The multipart boundary is missing or too long.");
        return true;
    }

    private async Task ReadMultipartAsync(Stream body, string boundary, long maxMessageBytes, long maxBodyBytes,
        Func<MailgunForm, string?> checkSignature, CancellationToken ct)
    {
        var reader = new MultipartReader(boundary, body) { HeadersCountLimit = 16, HeadersLengthLimit = FieldLimit };
        long total = 0;
        while (Refused is null && await reader.ReadNextSectionAsync(ct) is { } section)
        {
            var name = ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                ? HeaderUtilities.RemoveQuotes(disposition.Name).ToString()
                : "";
            var target = TargetFor(name, maxMessageBytes, checkSignature);
            if (Refused is not null)
                return;
            var limit = target switch
            {
                MemoryStream => FieldLimit + 1,
                FileBufferingWriteStream => maxMessageBytes,
                _ => maxBodyBytes - total,
            };
            await using (target as MemoryStream)
            {
                var copied = await CopyAsync(section.Body, target, limit, ct);
                total += copied;
                if (total > maxBodyBytes || copied > limit)
                    Refuse(target is MemoryStream ? StatusCodes.Status400BadRequest : StatusCodes.Status413PayloadTooLarge,
                        target is MemoryStream ? FieldTooLong(name) : TooLarge(maxMessageBytes));
                else
                    Keep(name, target);
            }
        }
    }

    /// <summary>Copies up to <paramref name="limit"/> bytes and counts what was read: a count over the limit means too long.</summary>
    private static async Task<long> CopyAsync(Stream from, Stream? to, long limit, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            long copied = 0;
            int read;
            while (copied <= limit && (read = await from.ReadAsync(buffer, ct)) > 0)
            {
                copied += read;
                if (to is not null && copied <= limit)
                    await to.WriteAsync(buffer.AsMemory(0, read), ct);
            }
            return copied;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// <c>application/x-www-form-urlencoded</c>, decoded as it streams: <c>name=value&amp;…</c> with <c>+</c> and
    /// <c>%XX</c> escapes, each value going where <see cref="TargetFor"/> says.
    /// </summary>
    private async Task ReadUrlEncodedAsync(Stream body, long maxMessageBytes, long maxBodyBytes,
        Func<MailgunForm, string?> checkSignature, CancellationToken ct)
    {
        var input = ArrayPool<byte>.Shared.Rent(16 * 1024);
        var output = ArrayPool<byte>.Shared.Rent(16 * 1024);
        var name = new MemoryStream();
        Stream? value = null;
        var inValue = false;
        var escape = -1; // -1: none; 0: after '%'; 16 + n: after '%' and one hex digit n
        long total = 0, valueLength = 0;
        try
        {
            while (Refused is null)
            {
                var read = await body.ReadAsync(input, ct);
                total += read;
                if (total > maxBodyBytes)
                {
                    Refuse(StatusCodes.Status413PayloadTooLarge, TooLarge(maxMessageBytes));
                    return;
                }
                var produced = 0;
                for (var i = 0; i < read || (read == 0 && i == 0); i++)
                {
                    var end = read == 0;
                    var b = end ? (byte)'&' : input[i];
                    if (b == '&' || (!inValue && b == '='))
                    {
                        if (!inValue && b == '=')
                        {
                            inValue = true;
                            var key = System.Text.Encoding.UTF8.GetString(name.GetBuffer(), 0, (int)name.Length);
                            value = TargetFor(key, maxMessageBytes, checkSignature);
                            if (Refused is not null)
                                return;
                            continue;
                        }
                        await FlushAsync(value, output, produced, ct);
                        produced = 0;
                        if (inValue && !Finish(System.Text.Encoding.UTF8.GetString(name.GetBuffer(), 0, (int)name.Length), value, valueLength, maxMessageBytes))
                            return;
                        name.SetLength(0);
                        value = null;
                        inValue = false;
                        valueLength = 0;
                        escape = -1;
                        if (end)
                            return;
                        continue;
                    }
                    if (!inValue)
                    {
                        if (name.Length < 256)
                            name.WriteByte(b == '+' ? (byte)' ' : b);
                        continue;
                    }
                    int? decoded = null;
                    if (escape == 0)
                        escape = HexValue(b) is { } high ? 16 + high : -1;
                    else if (escape >= 16)
                    {
                        decoded = HexValue(b) is { } low ? ((escape - 16) << 4) | low : '?';
                        escape = -1;
                    }
                    else if (b == '%')
                        escape = 0;
                    else
                        decoded = b == '+' ? ' ' : b;
                    if (decoded is not { } d)
                        continue;
                    valueLength++;
                    if (value is null || valueLength > (value is MemoryStream ? FieldLimit + 1 : maxMessageBytes))
                        continue;
                    output[produced++] = (byte)d;
                    if (produced == output.Length)
                    {
                        await FlushAsync(value, output, produced, ct);
                        produced = 0;
                    }
                }
                await FlushAsync(value, output, produced, ct);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(input);
            ArrayPool<byte>.Shared.Return(output);
        }
    }

    private bool Finish(string name, Stream? value, long length, long maxMessageBytes)
    {
        if (value is FileBufferingWriteStream && length > maxMessageBytes)
        {
            Refuse(StatusCodes.Status413PayloadTooLarge, TooLarge(maxMessageBytes));
            return false;
        }
        return Keep(name, value);
    }

    private static Task FlushAsync(Stream? to, byte[] output, int count, CancellationToken ct) =>
        to is null || count == 0 ? Task.CompletedTask : to.WriteAsync(output.AsMemory(0, count), ct).AsTask();

    private static int? HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => null,
    };
}
