namespace ConnectiveOne.Core.Tickets;

public enum MessageDirection { Inbound, Outbound, Note }

public enum DeliveryState
{
    Queued,
    Sent,
    Failed,
    /// <summary>Accepted by the relay, then returned by a bounce (see <see cref="TicketMessage.BouncedRecipient"/>).</summary>
    Bounced,
}

/// <summary>What intake recognised about a message; automatic mail never triggers mail.</summary>
[Flags]
public enum MessageFlags
{
    None = 0,
    AutoReply = 1,
    Bounce = 2,
    Loop = 4,
    Bulk = 8,
    /// <summary>Looks forwarded-as rather than redirected (see forwarding status).</summary>
    ForwardedAs = 16,
    /// <summary>MimeKit could not parse it; the raw bytes are kept and shown as such.</summary>
    ParseFailed = 32,
    /// <summary>An operator's forward of ticket mail to someone outside the conversation (a third party).</summary>
    Forward = 64,
}

/// <summary>One message of a ticket: a customer's mail, an operator's reply, or an internal note.</summary>
public sealed class TicketMessage
{
    public long Id { get; set; }
    public long TicketId { get; set; }
    public Ticket? Ticket { get; set; }
    public Guid AddressId { get; set; }
    public MessageDirection Direction { get; set; }

    /// <summary>The Message-ID without angle brackets (normalized), or null when the mail had none.</summary>
    public string? MessageIdHeader { get; set; }

    /// <summary>Duplicate key within an address: the Message-ID, or a content hash when there is none. Unique per address.</summary>
    public required string DedupKey { get; set; }

    /// <summary>Sender address in lower case.</summary>
    public required string FromAddress { get; set; }
    public string? FromName { get; set; }
    public string To { get; set; } = "";
    public string? Cc { get; set; }
    public string Subject { get; set; } = "";
    public string? InReplyTo { get; set; }
    public string? References { get; set; }

    /// <summary>The Date header (sender's clock).</summary>
    public DateTimeOffset? Date { get; set; }

    /// <summary>When we received or wrote it (our clock; used for ordering).</summary>
    public DateTimeOffset ReceivedAt { get; set; }

    public string? Text { get; set; }

    /// <summary>Sanitized HTML, with remote images rewritten so that none load until asked.</summary>
    public string? Html { get; set; }
    public bool HasRemoteImages { get; set; }

    public MessageFlags Flags { get; set; }
    public string? ParseError { get; set; }
    public long RawSize { get; set; }

    /// <summary>For outbound mail: where delivery stands, with the relay's words.</summary>
    public DeliveryState? Delivery { get; set; }
    public string? DeliveryDetail { get; set; }

    /// <summary>For a <see cref="DeliveryState.Bounced"/> message: the recipient(s) the bounce names, comma-separated.</summary>
    public string? BouncedRecipient { get; set; }

    /// <summary>The operator who wrote an outbound message or note.</summary>
    public string? AuthorUserId { get; set; }

    public List<MessageAttachment> Attachments { get; set; } = [];

    /// <summary>The exact bytes; not loaded unless asked for.</summary>
    public RawMessage? Raw { get; set; }
}

/// <summary>The exact bytes of a message as received or sent, downloadable; kept apart so listing messages stays lean.</summary>
public sealed class RawMessage
{
    public long MessageId { get; set; }
    public required byte[] Bytes { get; set; }
}

/// <summary>An attachment or inline part. Its content is stored once per SHA-256 in <see cref="AttachmentContent"/>.</summary>
public sealed class MessageAttachment
{
    public long Id { get; set; }
    public long MessageId { get; set; }
    public required string FileName { get; set; }
    public required string ContentType { get; set; }
    public long Size { get; set; }

    /// <summary>Lower-case hex SHA-256 of the content: the key of its <see cref="AttachmentContent"/>.</summary>
    public required string Sha256 { get; set; }

    /// <summary>The Content-ID of an inline part (for <c>cid:</c> references), without angle brackets.</summary>
    public string? ContentId { get; set; }
    public bool IsInline { get; set; }
}

/// <summary>
/// The bytes of an attachment, once per SHA-256 however many messages carry them. Written in the same transaction as
/// the messages that refer to it, so content is durable exactly when its message is (one commit, no files beside the
/// database, nothing to share between nodes but the database).
/// </summary>
public sealed class AttachmentContent
{
    /// <summary>64 lower-case hex digits.</summary>
    public required string Sha256 { get; set; }
    public required byte[] Bytes { get; set; }

    /// <summary>The key of <paramref name="content"/>: its SHA-256 in lower-case hex.</summary>
    public static string HashOf(ReadOnlySpan<byte> content) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content));
}
