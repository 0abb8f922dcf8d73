using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Tickets;
using MimeKit;

namespace ConnectiveOne.Core.Outbound;

/// <summary>
/// A composed outbound mail of a ticket: the finished message and its bytes, what the thread shows of it (text, files,
/// flags), and the envelope recipients.
/// </summary>
public sealed record TicketMail(MimeMessage Message, byte[] Bytes, SenderIdentity Sender, string? Text,
    IReadOnlyList<ReplyAttachment> Files, IReadOnlyList<MailboxAddress> Envelope, MessageFlags Flags = MessageFlags.None,
    string? Html = null);

/// <summary>
/// Writes an outbound mail of a ticket that is not a reply (a forward, a new ticket's first mail): its thread message with
/// attachments and raw bytes, and its outbox row, in the caller's transaction, so the mail is in the thread and the outbox
/// or nowhere, as a reply is (<see cref="ReplyService"/>). The outbox delivers it like a reply.
/// </summary>
public sealed class TicketMailQueue(AppDbContext db, RelayClient relay, OutboxSignal signal, ChangeNotifier notifier, TimeProvider clock)
{
    /// <summary>The message body: <paramref name="text"/> as text/plain, each file attached as it is.</summary>
    public static MimeEntity Body(string? text, IReadOnlyList<ReplyAttachment> files)
    {
        var body = new BodyBuilder { TextBody = text ?? "" };
        foreach (var file in files)
            // A type the browser or the original sender made up must not fail the mail: the file goes as plain bytes then.
            body.Attachments.Add(file.FileName, file.Content,
                ContentType.TryParse(file.ContentType, out var type) ? type : new ContentType("application", "octet-stream"));
        return body.ToMessageBody();
    }

    /// <summary>
    /// Adds the thread message and the outbox row of <paramref name="mail"/> on <paramref name="ticket"/> (which has its id)
    /// and saves them; the caller holds the transaction and commits it, then calls <see cref="Announce"/>.
    /// </summary>
    public async Task<TicketMessage> AddAsync(Ticket ticket, TicketMail mail, string? authorUserId, CancellationToken ct)
    {
        if (db.Database.CurrentTransaction is null)
            throw new InvalidOperationException("A ticket mail is written in the caller's transaction.");
        var message = mail.Message;
        var messageId = message.MessageId ?? throw new InvalidOperationException("A ticket mail carries our Message-ID.");
        var now = clock.GetUtcNow();
        var waiting = relay.IsConfigured ? "Waiting to be sent." : RelayClient.NotConfiguredMessage;
        var stored = mail.Files.Select(f => new MessageAttachment
        {
            FileName = f.FileName,
            ContentType = f.ContentType,
            Size = f.Content.Length,
            Sha256 = AttachmentContent.HashOf(f.Content),
        }).ToList();
        // Content is shared by SHA-256 and added only when missing, by the insert itself (see ReplyService).
        foreach (var content in mail.Files.Zip(stored, (f, a) => new AttachmentContent { Sha256 = a.Sha256, Bytes = f.Content }).DistinctBy(c => c.Sha256))
            await db.InsertIfMissingAsync(content, ct);
        var row = new TicketMessage
        {
            TicketId = ticket.Id,
            AddressId = ticket.AddressId,
            Direction = MessageDirection.Outbound,
            MessageIdHeader = messageId,
            DedupKey = messageId,
            FromAddress = mail.Sender.From.Address.ToLowerInvariant(),
            To = message.To.ToString(),
            Cc = message.Cc.Count == 0 ? null : message.Cc.ToString(),
            Subject = message.Subject ?? "",
            Date = message.Date,
            ReceivedAt = now,
            Text = mail.Text,
            Html = mail.Html,
            RawSize = mail.Bytes.Length,
            Flags = mail.Flags,
            Delivery = DeliveryState.Queued,
            DeliveryDetail = waiting,
            AuthorUserId = authorUserId,
            Attachments = stored,
        };
        db.Messages.Add(row);
        await db.SaveChangesAsync(ct);
        db.RawMessages.Add(new RawMessage { MessageId = row.Id, Bytes = mail.Bytes });
        db.Outbox.Add(new OutboundMail
        {
            // Delivered and checked like a reply: ticket mail to people, never to one of our own addresses.
            Kind = OutboundKind.Reply,
            AddressId = ticket.AddressId,
            FromAddress = mail.Sender.From.Address,
            ToAddress = string.Join(", ", mail.Envelope.Select(m => m.Address)),
            Subject = row.Subject,
            MessageIdHeader = messageId,
            DkimSigned = mail.Sender.Signed,
            Mime = mail.Bytes,
            NextAttemptAt = now,
            Detail = waiting,
            TicketMessageId = row.Id,
            CreatedByUserId = authorUserId,
            CreatedAt = now,
        });
        await db.SaveChangesAsync(ct);
        return row;
    }

    /// <summary>
    /// Adds <paramref name="people"/> to the ticket in <paramref name="role"/> (not the customer; someone already there keeps
    /// the role they have).
    /// </summary>
    public Task AddParticipantsAsync(Ticket ticket, IEnumerable<MailboxAddress> people, ParticipantRole role, CancellationToken ct) =>
        AddParticipantsAsync(db, ticket, people, role, clock.GetUtcNow(), ct);

    /// <inheritdoc cref="AddParticipantsAsync(Ticket, IEnumerable{MailboxAddress}, ParticipantRole, CancellationToken)"/>
    public static async Task AddParticipantsAsync(AppDbContext db, Ticket ticket, IEnumerable<MailboxAddress> people, ParticipantRole role,
        DateTimeOffset now, CancellationToken ct)
    {
        foreach (var mailbox in people)
        {
            var email = mailbox.Address.ToLowerInvariant();
            if (email == ticket.CustomerEmail)
                continue;
            await db.InsertIfMissingAsync(new TicketParticipant
            {
                TicketId = ticket.Id,
                Email = email,
                Name = string.IsNullOrWhiteSpace(mailbox.Name) ? null : mailbox.Name,
                Role = role,
                AddedAt = now,
            }, ct);
        }
    }

    /// <summary>After the commit: wakes the outbox and tells open views (messageAdded with the ticket and message ids).</summary>
    public void Announce(long ticketId, long messageId, string summary, bool ticketCreated = false)
    {
        signal.Wake();
        var id = ticketId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (ticketCreated)
            notifier.Publish(new ChangeEvent(ChangeKind.TicketCreated, id, summary));
        notifier.Publish(new ChangeEvent(ChangeKind.MessageAdded, id, summary) { MessageId = messageId });
    }

    /// <summary>
    /// The addresses of one field as mailboxes; the first unusable one (not an address, or one of ours) is named in the error.
    /// </summary>
    public static async Task<(IReadOnlyList<MailboxAddress> List, string? Error)> RecipientsAsync(OutboundComposer composer,
        IReadOnlyList<string>? typed, string field, CancellationToken ct)
    {
        var list = new List<MailboxAddress>();
        foreach (var entry in (typed ?? []).Where(t => !string.IsNullOrWhiteSpace(t)))
        {
            if (ReplyService.RecipientProblem(entry) is { } problem)
                return ([], $"{field}: \"{(entry.Length <= 80 ? entry.Trim() : entry.Trim()[..79] + "…")}\" is not a usable address: {problem}");
            var mailbox = MailboxAddress.Parse(entry.Trim());
            if (await composer.ReplyRecipientProblemAsync(mailbox.Address, ct) is { } own)
                return ([], $"{field}: {own}");
            if (!list.Any(m => string.Equals(m.Address, mailbox.Address, StringComparison.OrdinalIgnoreCase)))
                list.Add(mailbox);
        }
        return (list, null);
    }
}
