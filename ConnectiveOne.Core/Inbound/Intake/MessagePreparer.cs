using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using ConnectiveOne.Core.Inbound.Bounces;
using ConnectiveOne.Core.Threading;
using ConnectiveOne.Core.Tickets;
using Microsoft.Extensions.Options;
using MimeKit;

namespace ConnectiveOne.Core.Inbound.Intake;

/// <summary>
/// Turns raw bytes into a <see cref="PreparedMessage"/>: MIME parsing with a depth and time bound, bodies,
/// sanitized HTML, classification, and attachments decoded and hashed (their content is written with the message by
/// the <see cref="IntakeWriter"/>, in its transaction). A message that cannot be parsed is
/// prepared as such (flag <see cref="MessageFlags.ParseFailed"/>), never dropped. A large message in a spool file is
/// prepared the same way without being copied to memory: parsed with persistent content (MimeKit reads parts from the
/// file when asked) and its attachments decoded into spool files of their own.
/// </summary>
public sealed class MessagePreparer(IOptions<ConnectiveOneOptions> options, MessageSpool spool)
{
    /// <summary>Header our forwarding test mail carries (the outbound side sets it); its value is the address's test token.</summary>
    public const string ForwardingTestHeader = "X-ConnectiveOne-Forwarding-Test";

    private const int MaxHeaderText = 4000;

    private static readonly ParserOptions Parser = CreateParserOptions();
    private readonly string _inboundDomain = options.Value.InboundDomain;
    private readonly TimeSpan _parseTimeout = TimeSpan.FromSeconds(options.Value.Inbound.ParseTimeoutSeconds);

    /// <param name="raw">The message exactly as received.</param>
    /// <param name="envelopeSender">MAIL FROM ("" for &lt;&gt;), or null when unknown (webhooks).</param>
    /// <param name="ownAddresses">Our addresses this message was sent to (technical and corporate), for loop detection.</param>
    /// <param name="cancellationToken">Cancels the whole preparation.</param>
    public PreparedMessage Prepare(byte[] raw, string? envelopeSender, IEnumerable<string> ownAddresses, CancellationToken cancellationToken) =>
        Prepare(raw, null, LargestHeaderBytes(raw), token => RawMessageParser.Parse(raw, Parser, token), envelopeSender, ownAddresses, cancellationToken);

    /// <summary>
    /// Prepares a message from its spool file without reading it into memory. The file must not start with an mbox
    /// <c>From </c> line nor use CR-only line ends (SMTP data never does; <see cref="RawMessageParser"/> handles those).
    /// The result owns <paramref name="raw"/>; on an exception it is the caller's still.
    /// </summary>
    public PreparedMessage Prepare(SpoolFile raw, string? envelopeSender, IEnumerable<string> ownAddresses, CancellationToken cancellationToken) =>
        Prepare([], raw, LargestHeaderBytes(raw.Rewound()), token => MimeMessage.Load(Parser, raw.Rewound(), persistent: true, token),
            envelopeSender, ownAddresses, cancellationToken);

    private PreparedMessage Prepare(byte[] raw, SpoolFile? file, int largestHeader, Func<CancellationToken, MimeMessage> parse, string? envelopeSender,
        IEnumerable<string> ownAddresses, CancellationToken cancellationToken)
    {
        // MimeKit's header parsing is not interruptible and grows faster than linearly on some huge headers (a 2 MB
        // folded References took it tens of seconds; found by the malformed-MIME fuzzing), so such mail is kept as it
        // came without being parsed. Real headers are far smaller (the corpus' largest, a 135 KB To, stays parsed).
        if (largestHeader > MaxHeaderBytes)
            return Unparsed(raw, file, envelopeSender, ownAddresses, $"A header is {largestHeader / 1024} KB long, more than the {MaxHeaderBytes / 1024} KB that is read.");
        MimeMessage message;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(_parseTimeout);
            try
            {
                message = parse(timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return Unparsed(raw, file, envelopeSender, ownAddresses, $"Parsing took longer than {_parseTimeout.TotalSeconds:0} s.");
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return Unparsed(raw, file, envelopeSender, ownAddresses, $"{ex.GetType().Name}: {ex.Message}");
            }
        }

        try
        {
            return Prepare(raw, file, message, envelopeSender, ownAddresses);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A structure MimeKit accepted but our reading of it did not: keep the bytes, show them as such.
            return Unparsed(raw, file, envelopeSender, ownAddresses, $"{ex.GetType().Name}: {ex.Message}");
        }
    }

    private PreparedMessage Prepare(byte[] raw, SpoolFile? file, MimeMessage message, string? envelopeSender, IEnumerable<string> ownAddresses)
    {
        var classification = new AutomaticMailClassifier(_inboundDomain, ownAddresses).Classify(message, envelopeSender);
        var messageId = string.IsNullOrWhiteSpace(message.MessageId) ? null : MessageIds.Normalize(message.MessageId);
        // An absurdly long Message-ID counts as none (the dedup key is then a hash): it is indexed, and PostgreSQL
        // refuses index entries over ~2.7 KB.
        if (!IsKeepableMessageId(messageId))
            messageId = null;
        var from = message.From.Mailboxes.FirstOrDefault();
        var customer = ChooseCustomer(message, envelopeSender, ownAddresses);

        var stored = new List<PreparedAttachment>();
        // TextBody/HtmlBody decode the part on every call: read each once.
        var textBody = message.TextBody;
        var htmlBody = message.HtmlBody;
        var textPart = textBody is null ? null : FindBody(message, "plain");
        var htmlPart = htmlBody is null ? null : FindBody(message, "html");
        try
        {
            foreach (var entity in message.BodyParts)
            {
                if (ReferenceEquals(entity, textPart) || ReferenceEquals(entity, htmlPart))
                    continue;
                var attachment = Decode(entity, stored.Count, file is null ? null : spool);
                if (attachment is not null)
                    stored.Add(attachment);
            }

            SanitizedHtml? html = null;
            if (htmlBody is not null)
            {
                html = HtmlBodySanitizer.Sanitize(htmlBody, cid =>
                {
                    var index = stored.FindIndex(a => string.Equals(a.ContentId, cid, StringComparison.Ordinal));
                    return index < 0 ? null : $"/files/attachments/{PreparedMessage.InlinePlaceholder(index)}";
                });
            }

            return new PreparedMessage
            {
                Raw = raw,
                RawFile = file,
                Mime = message,
                EnvelopeSender = envelopeSender,
                MessageId = messageId,
                DedupKey = file is null ? DedupKeyOf(messageId, raw) : DedupKeyOf(messageId, file),
                FromAddress = Cut((from?.Address ?? envelopeSender ?? "").Trim().ToLowerInvariant(), 320)!,
                FromName = Cut(from?.Name, 320),
                CustomerAddress = customer?.Address.Trim().ToLowerInvariant() ?? "",
                CustomerName = Cut(customer?.Name, 320),
                People = ConversationAddresses.PeopleIn(message, a => CustomerAddress.IsOwn(a, _inboundDomain, ownAddresses)),
                To = Cut(message.To.ToString(), MaxHeaderText) ?? "",
                Cc = message.Cc.Count == 0 ? null : Cut(message.Cc.ToString(), MaxHeaderText),
                Subject = Cut(message.Subject, 1000) ?? "",
                InReplyTo = Cut(JoinIds(message.Headers, HeaderId.InReplyTo), MaxHeaderText),
                References = Cut(JoinIds(message.Headers, HeaderId.References), MaxHeaderText * 4),
                Date = message.Headers.Contains(HeaderId.Date) ? message.Date : null,
                Text = textBody,
                Html = html?.Html,
                Preview = MessagePreview.Of(textBody, html?.Html),
                HasRemoteImages = html?.HasRemoteImages ?? false,
                Flags = (MessageFlags)(int)classification.Flags,
                FlagReasons = classification.Reasons,
                Bounce = classification.Has(AutomaticMailFlags.Bounce) ? ReadBounce(message) : null,
                Attachments = stored,
                ForwardingTestHeaders = message.Headers.Where(h => h.Field.Equals(ForwardingTestHeader, StringComparison.OrdinalIgnoreCase))
                    .Select(h => (h.Value ?? "").Trim()).ToList(),
            };
        }
        catch
        {
            // The message is then kept unparsed (or not at all): the attachments' spool files go now.
            foreach (var attachment in stored)
                attachment.ContentFile?.Dispose();
            throw;
        }
    }

    // A report we cannot read is still a bounce: it goes the way bounces always went (stored, flagged), so a failure
    // here never costs the message.
    private static BounceReport? ReadBounce(MimeMessage message)
    {
        try
        {
            return BounceParser.Parse(message) is { OriginalMessageIds.Count: > 0 } report ? report : null;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException or NotSupportedException or DecoderFallbackException)
        {
            return null;
        }
    }

    /// <param name="entity">A body part that is neither the text nor the HTML body.</param>
    /// <param name="index">How many attachments came before it (for a name when it has none).</param>
    /// <param name="toFile">Decode into a file of this spool (a spooled message) instead of into memory.</param>
    private static PreparedAttachment? Decode(MimeEntity entity, int index, MessageSpool? toFile)
    {
        Action<Stream> write;
        string? fileName;
        switch (entity)
        {
            case MessagePart { Message: { } attached }:
                write = target => attached.WriteTo(target);
                fileName = entity.ContentDisposition?.FileName
                    ?? (string.IsNullOrWhiteSpace(attached.Subject) ? "message.eml" : $"{Cut(attached.Subject, 200)}.eml");
                break;
            case MimePart { Content: { } body } part:
                write = target => body.DecodeTo(target);
                fileName = part.FileName;
                break;
            default:
                return null;
        }
        byte[] content = [];
        SpoolFile? file = null;
        string sha256;
        if (toFile is null)
        {
            using var buffer = new MemoryStream();
            write(buffer);
            content = buffer.ToArray();
            sha256 = AttachmentContent.HashOf(content);
        }
        else
        {
            file = toFile.Create();
            try
            {
                write(file.Stream);
                sha256 = file.Sha256();
            }
            catch
            {
                file.Dispose();
                throw;
            }
        }
        var contentType = entity.ContentType.MimeType.ToLowerInvariant();
        var contentId = string.IsNullOrWhiteSpace(entity.ContentId) ? null : MessageIds.Normalize(entity.ContentId);
        var name = SafeFileName(fileName) ?? $"part-{index + 1}{Extension(contentType)}";
        var isInline = contentId is not null && entity.ContentDisposition?.IsAttachment != true;
        return new PreparedAttachment(Cut(name, 255)!, Cut(contentType, 255)!, sha256, contentId, isInline, content) { ContentFile = file };
    }

    private PreparedMessage Unparsed(byte[] raw, SpoolFile? file, string? envelopeSender, IEnumerable<string> ownAddresses, string error) => new()
    {
        Raw = raw,
        RawFile = file,
        ParseError = Cut(error, 1000),
        EnvelopeSender = envelopeSender,
        DedupKey = file is null ? DedupKeyOf(null, raw) : DedupKeyOf(null, file),
        FromAddress = Cut((envelopeSender ?? "").Trim().ToLowerInvariant(), 320)!,
        CustomerAddress = ChooseCustomer(null, envelopeSender, ownAddresses)?.Address.Trim().ToLowerInvariant() ?? "",
        Subject = "(could not be read)",
        Flags = MessageFlags.ParseFailed,
    };

    // Our own addresses are never the customer: a reply there would come straight back in.
    private MailboxAddress? ChooseCustomer(MimeMessage? message, string? envelopeSender, IEnumerable<string> ownAddresses) =>
        CustomerAddress.Choose(message, envelopeSender, a => CustomerAddress.IsOwn(a, _inboundDomain, ownAddresses));

    /// <summary>The Message-ID, or for mail without one (or an absurdly long one) a hash of the exact bytes.</summary>
    public static string DedupKeyOf(string? messageId, ReadOnlySpan<byte> raw) =>
        IsKeepableMessageId(messageId)
            ? messageId!
            : "sha256:" + Convert.ToHexStringLower(SHA256.HashData(raw));

    /// <summary><see cref="DedupKeyOf(string?, ReadOnlySpan{byte})"/> of a message in a spool file.</summary>
    public static string DedupKeyOf(string? messageId, SpoolFile raw) =>
        IsKeepableMessageId(messageId) ? messageId! : "sha256:" + raw.Sha256();

    // At most 900 bytes of UTF-8: well inside PostgreSQL's index entry limit with the address id beside it.
    private static bool IsKeepableMessageId(string? messageId) =>
        messageId is { Length: > 0 and <= 900 } && Encoding.UTF8.GetByteCount(messageId) <= 900;

    /// <summary>Headers larger than this (with their folded lines) make a message too costly to parse.</summary>
    public const int MaxHeaderBytes = 256 * 1024;

    /// <summary>The size of the largest header in the header block (folded lines counted with their header), in one linear pass.</summary>
    public static int LargestHeaderBytes(ReadOnlySpan<byte> raw)
    {
        int largest = 0, current = 0;
        var lineStart = 0;
        while (lineStart < raw.Length)
        {
            var end = raw[lineStart..].IndexOf((byte)'\n');
            var lineEnd = end < 0 ? raw.Length : lineStart + end + 1;
            var line = raw[lineStart..lineEnd];
            var content = line.TrimEnd("\r\n"u8);
            if (content.IsEmpty)
                break; // the blank line ends the header block
            current = content[0] is (byte)' ' or (byte)'\t' ? current + line.Length : line.Length;
            largest = Math.Max(largest, current);
            lineStart = lineEnd;
        }
        return largest;
    }

    /// <summary><see cref="LargestHeaderBytes(ReadOnlySpan{byte})"/> of a message read from a stream, block by block.</summary>
    public static int LargestHeaderBytes(Stream raw)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int largest = 0, current = 0, line = 0;
            bool folded = false, blank = true; // the line so far: starts with a space or tab; holds nothing but CR and LF
            int read;
            while ((read = raw.Read(buffer)) > 0)
            {
                foreach (var b in buffer.AsSpan(0, read))
                {
                    if (line++ == 0)
                        folded = b is (byte)' ' or (byte)'\t';
                    if (b is not ((byte)'\r' or (byte)'\n'))
                        blank = false;
                    if (b != (byte)'\n')
                        continue;
                    if (blank)
                        return largest; // the blank line ends the header block
                    current = folded ? current + line : line;
                    largest = Math.Max(largest, current);
                    (line, blank) = (0, true);
                }
            }
            return line > 0 && !blank ? Math.Max(largest, folded ? current + line : line) : largest;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static TextPart? FindBody(MimeMessage message, string subtype) =>
        message.BodyParts.OfType<TextPart>().FirstOrDefault(p => !p.IsAttachment && p.ContentType.IsMimeType("text", subtype));

    private static string? JoinIds(HeaderList headers, HeaderId id)
    {
        var ids = MessageIds.Parse(headers.Where(h => h.Id == id).Select(h => h.Value));
        return ids.Count == 0 ? null : string.Join(' ', ids.Select(i => $"<{i}>"));
    }

    private static string? SafeFileName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
            return null;
        // No path (../, C:\…), no control characters (an encoded CR/LF would split a header), and no invisible
        // formatting such as a right-to-left override that shows "invoice\u202Efdp.exe" as "invoiceexe.pdf".
        var file = Path.GetFileName(name.Replace('\\', '/').Trim());
        var clean = new string(file.Where(c => !char.IsControl(c) && !IsInvisible(c)).ToArray()).Trim();
        return clean.Length == 0 || clean is "." or ".." ? null : clean;
    }

    private static bool IsInvisible(char c) => char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.Format
        or System.Globalization.UnicodeCategory.LineSeparator or System.Globalization.UnicodeCategory.ParagraphSeparator;

    private static string Extension(string contentType) => contentType switch
    {
        "image/png" => ".png",
        "image/jpeg" => ".jpg",
        "image/gif" => ".gif",
        "application/pdf" => ".pdf",
        "message/rfc822" => ".eml",
        "text/plain" => ".txt",
        "text/html" => ".html",
        _ => ".bin",
    };

    /// <summary>At most <paramref name="max"/> UTF-16 units, never half a surrogate pair (PostgreSQL refuses invalid UTF-8).</summary>
    internal static string? Cut(string? value, int max) =>
        value is null || value.Length <= max ? value : value[..(char.IsHighSurrogate(value[max - 1]) ? max - 1 : max)];

    private static ParserOptions CreateParserOptions()
    {
        var parser = ParserOptions.Default.Clone();
        parser.MaxMimeDepth = 32; // nested multiparts beyond this are a parser attack, not mail
        return parser;
    }
}
