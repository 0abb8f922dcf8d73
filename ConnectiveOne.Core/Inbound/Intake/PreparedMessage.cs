using ConnectiveOne.Core.Tickets;
using MimeKit;

namespace ConnectiveOne.Core.Inbound.Intake;

/// <summary>
/// An attachment decoded on the session's thread: its <see cref="Content"/> and <see cref="Sha256"/> go to the
/// database with the message, in the writer's transaction. A spooled message's attachments are decoded into
/// <see cref="ContentFile"/> instead (<see cref="Content"/> is then empty).
/// </summary>
public sealed record PreparedAttachment(string FileName, string ContentType, string Sha256, string? ContentId, bool IsInline, byte[] Content)
{
    /// <summary>The decoded content in a spool file, for a message intake took from a spool file; else null.</summary>
    public SpoolFile? ContentFile { get; init; }

    public long Size => ContentFile?.Length ?? Content.LongLength;
}

/// <summary>
/// Everything intake learned from a message before it reaches the writer: parsed on the caller's thread (so
/// sessions parse in parallel), attachments decoded and hashed. The writer only threads and inserts.
/// A large SMTP message stays in its spool file (<see cref="RawFile"/>), parsed with persistent content and its
/// attachments decoded to spool files; whoever holds the message last disposes it, which deletes them.
/// </summary>
public sealed class PreparedMessage : IDisposable
{
    /// <summary>The message exactly as received, in memory; empty when it is in <see cref="RawFile"/>.</summary>
    public required byte[] Raw { get; init; }

    /// <summary>The message exactly as received, in a spool file (large SMTP messages); else null.</summary>
    public SpoolFile? RawFile { get; init; }

    /// <summary>The size of the message as received.</summary>
    public long RawLength => RawFile?.Length ?? Raw.LongLength;

    /// <summary>The parsed message, or null when it could not be parsed (<see cref="ParseError"/> says why).</summary>
    public MimeMessage? Mime { get; init; }
    public string? ParseError { get; init; }
    public string? EnvelopeSender { get; init; }

    /// <summary>Normalized Message-ID, or null.</summary>
    public string? MessageId { get; init; }
    public required string DedupKey { get; init; }
    public required string FromAddress { get; init; }
    public string? FromName { get; init; }

    /// <summary>
    /// Who replies go to (<see cref="Tickets.CustomerAddress.Choose"/>), lower case; "" when the message names no usable
    /// address of someone else, and its ticket then has no reply address.
    /// </summary>
    public string CustomerAddress { get; init; } = "";
    public string? CustomerName { get; init; }
    /// <summary>
    /// The people of the message that could take part in its ticket (<see cref="ConversationAddresses.PeopleIn"/>): our own
    /// addresses it was sent to and machines left out; the writer also leaves out the ticket's customer and other corporate addresses.
    /// </summary>
    public IReadOnlyList<NamedAddress> People { get; init; } = [];
    public string To { get; init; } = "";
    public string? Cc { get; init; }
    public string Subject { get; init; } = "";
    public string? InReplyTo { get; init; }
    public string? References { get; init; }
    public DateTimeOffset? Date { get; init; }
    public string? Text { get; init; }

    /// <summary>The inbox row's preview of this message (<see cref="Tickets.MessagePreview"/>), computed while preparing, off the writer's thread.</summary>
    public string? Preview { get; init; }

    /// <summary>Sanitized HTML; inline images point at <see cref="InlinePlaceholder"/> until their ids are known.</summary>
    public string? Html { get; init; }
    public bool HasRemoteImages { get; init; }

    /// <summary>AutoReply, Bounce, Loop, Bulk and ParseFailed; ForwardedAs is decided per address by the writer.</summary>
    public MessageFlags Flags { get; init; }
    public IReadOnlyList<string> FlagReasons { get; init; } = [];

    /// <summary>
    /// For mail flagged <see cref="MessageFlags.Bounce"/> that names a returned Message-ID: what the report says. The
    /// writer looks those ids up among our sent messages; other mail never costs that lookup.
    /// </summary>
    public Bounces.BounceReport? Bounce { get; init; }
    public IReadOnlyList<PreparedAttachment> Attachments { get; init; } = [];

    /// <summary>The forwarding-test token candidates: the <c>X-ConnectiveOne-Forwarding-Test</c> header value(s).</summary>
    public IReadOnlyList<string> ForwardingTestHeaders { get; init; } = [];

    /// <summary>The placeholder for attachment <paramref name="index"/> in <see cref="Html"/>, replaced by its id after insert.</summary>
    public static string InlinePlaceholder(int index) => $"__c1inline{index}__";

    /// <summary>How long preparing took (for the writer's Debug timing breakdown).</summary>
    public TimeSpan PrepareTime { get; internal set; }

    /// <summary>Automatic mail (auto-replies, bounces, loops, lists) never reopens a ticket.</summary>
    public bool IsAutomatic => (Flags & (MessageFlags.AutoReply | MessageFlags.Bounce | MessageFlags.Loop | MessageFlags.Bulk)) != 0;

    /// <summary>Deletes the spool files (a message held in memory has none).</summary>
    public void Dispose()
    {
        foreach (var attachment in Attachments)
            attachment.ContentFile?.Dispose();
        RawFile?.Dispose();
    }
}
