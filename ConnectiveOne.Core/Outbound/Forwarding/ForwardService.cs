using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Threading;
using ConnectiveOne.Core.Tickets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Core.Outbound.Forwarding;

/// <summary>What a forward would carry: the ticket it belongs to, how many messages, and the files that go along.</summary>
public sealed record ForwardPlan(long TicketId, int MessageCount, IReadOnlyList<AttachmentInfo> Attachments, string? Error)
{
    public static ForwardPlan Fail(long ticketId, string error) => new(ticketId, 0, [], error);
}

/// <summary>
/// Forwards one message, some, or the whole ticket to someone outside the conversation, with a note. The forward goes
/// through the outbox like a reply (same From, name and signature rules), shows in the thread flagged
/// <see cref="MessageFlags.Forward"/>, and its recipients join the ticket as <see cref="ParticipantRole.ThirdParty"/>: their
/// answer threads back (our Message-ID and the <c>[#N]</c> tag), and reply-all never copies them.
/// </summary>
public sealed class ForwardService(AppDbContext db, OutboundComposer composer, TicketMailQueue queue,
    IOptions<ConnectiveOneOptions> options, ILogger<ForwardService> logger)
{
    /// <summary>
    /// What forwarding <paramref name="messageIds"/> of ticket <paramref name="ticketId"/> (null: the whole ticket) would
    /// send, for the dialog to show; a ticket id of null takes the ticket of the first message.
    /// </summary>
    public async Task<ForwardPlan> PlanAsync(long? ticketId, IReadOnlyList<long>? messageIds, CancellationToken ct)
    {
        if (ticketId is null && messageIds is [var first, ..])
            ticketId = await db.Messages.AsNoTracking().Where(m => m.Id == first).Select(m => (long?)m.TicketId).FirstOrDefaultAsync(ct);
        if (ticketId is not { } id)
            return ForwardPlan.Fail(0, "There is no such message.");
        var (messages, error) = await MessagesAsync(id, messageIds, ct);
        if (error is not null)
            return ForwardPlan.Fail(id, error);
        var files = messages.SelectMany(m => m.Attachments.OrderBy(a => a.Id))
            .Select(a => new AttachmentInfo(a.Id, a.FileName, a.ContentType, a.Size, a.Sha256, a.ContentId, a.IsInline)).ToList();
        return new ForwardPlan(id, messages.Count, files, TooLarge(files.Sum(f => f.Size)));
    }

    /// <summary>
    /// Queues a forward of <paramref name="messageIds"/> (null: every mail of the ticket, notes and earlier forwards left
    /// out) to <paramref name="to"/> with <paramref name="note"/> on top.
    /// </summary>
    public async Task<ReplyResult> QueueForwardAsync(long ticketId, IReadOnlyList<string>? to, string? note, IReadOnlyList<long>? messageIds,
        string? authorUserId, CancellationToken ct = default)
    {
        var ticket = await db.Tickets.FirstOrDefaultAsync(t => t.Id == ticketId, ct);
        if (ticket is null)
            return ReplyResult.Fail($"There is no ticket #{ticketId}.") with { TicketMissing = true };
        var recipients = await TicketMailQueue.RecipientsAsync(composer, to, "To", ct);
        if (recipients.Error is { } invalid)
            return ReplyResult.Fail(invalid);
        if (recipients.List.Count == 0)
            return ReplyResult.Fail("A forward needs an address in To: whom should it go to?");
        if (recipients.List.Count > ReplyService.MaxRecipients)
            return ReplyResult.Fail($"A forward can go to at most {ReplyService.MaxRecipients} addresses; this one names {recipients.List.Count}.");
        var (messages, error) = await MessagesAsync(ticketId, messageIds, ct);
        if (error is not null)
            return ReplyResult.Fail(error);
        if (TooLarge(messages.Sum(m => m.Attachments.Sum(a => a.Size))) is { } tooLarge)
            return ReplyResult.Fail(tooLarge);

        // The files go along byte for byte: read from the content store by their SHA-256.
        var hashes = messages.SelectMany(m => m.Attachments).Select(a => a.Sha256).Distinct().ToList();
        var contents = hashes.Count == 0 ? [] : await db.AttachmentContents.AsNoTracking().Where(c => hashes.Contains(c.Sha256))
            .ToDictionaryAsync(c => c.Sha256, c => c.Bytes, ct);
        var files = messages.SelectMany(m => m.Attachments.OrderBy(a => a.Id))
            .Where(a => contents.ContainsKey(a.Sha256))
            .Select(a => new ReplyAttachment(a.FileName, a.ContentType, contents[a.Sha256])).ToList();

        var address = await db.Addresses.AsNoTracking().FirstAsync(a => a.Id == ticket.AddressId, ct);
        var author = authorUserId is null ? null : await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == authorUserId, ct);
        // The note is signed like a reply (the signature under the note, above the forwarded messages).
        if (!string.IsNullOrWhiteSpace(note) && ReplySignature.For(address, author) is { } signature)
            note = MailBody.Render(note, signature).Text;
        var text = ForwardedText.Compose(note, messages.Select(m => new ForwardedMessage(m.FromAddress, m.FromName,
            m.Date ?? m.ReceivedAt, m.Subject, m.To, m.Cc, m.Text, m.Html)).ToList());

        var sender = await composer.ResolveSenderAsync(address, ct, ReplySignature.OperatorName(author));
        var message = composer.Create(sender, MessageIdFormat.Generate(ticket.Id, ticket.ThreadToken, composer.InboundDomain));
        message.To.AddRange(recipients.List);
        message.Subject = ForwardedText.Subject(ticket.Subject, ticket.Id);
        message.Body = TicketMailQueue.Body(text, files);
        var bytes = composer.Finish(message, sender);

        TicketMessage row;
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            row = await queue.AddAsync(ticket, new TicketMail(message, bytes, sender, text, files, recipients.List, MessageFlags.Forward), authorUserId, ct);
            await db.CountMessageAsync(ticket.Id, lastMessageAt: row.ReceivedAt, ct);
            await queue.AddParticipantsAsync(ticket, recipients.List, ParticipantRole.ThirdParty, ct);
            await transaction.CommitAsync(ct);
        }
        logger.LogInformation("Forward {MessageId} of {Count} message(s) with {Files} file(s) queued on ticket {TicketId}",
            row.Id, messages.Count, files.Count, ticket.Id);
        queue.Announce(ticket.Id, row.Id, $"Forward queued on #{ticket.Id}");
        return new ReplyResult(row.Id, null);
    }

    // The messages to forward in the order they arrived, with their attachments; or why they cannot be.
    private async Task<(IReadOnlyList<TicketMessage> Messages, string? Error)> MessagesAsync(long ticketId, IReadOnlyList<long>? messageIds,
        CancellationToken ct)
    {
        var query = db.Messages.AsNoTracking().Include(m => m.Attachments).Where(m => m.TicketId == ticketId);
        if (messageIds is null)
        {
            var all = await query.Where(m => m.Direction != MessageDirection.Note && (m.Flags & MessageFlags.Forward) == 0)
                .OrderBy(m => m.ReceivedAt).ThenBy(m => m.Id).ToListAsync(ct);
            return all.Count == 0 ? ([], $"Ticket #{ticketId} has no mail to forward yet.") : (all, null);
        }
        if (messageIds.Count == 0)
            return ([], "'messageIds' is empty: name the messages to forward, or leave it out to forward the whole ticket.");
        if (messageIds.Count > TicketQueries.MaxMessageLimit)
            return ([], $"A forward can name at most {TicketQueries.MaxMessageLimit} messages; leave 'messageIds' out to forward the whole ticket.");
        var wanted = messageIds.Distinct().ToList();
        var found = await query.Where(m => wanted.Contains(m.Id)).OrderBy(m => m.ReceivedAt).ThenBy(m => m.Id).ToListAsync(ct);
        if (wanted.FirstOrDefault(id => found.All(m => m.Id != id)) is var missing and not 0)
            return ([], $"Message {missing} is not in ticket #{ticketId}.");
        if (found.FirstOrDefault(m => m.Direction == MessageDirection.Note) is { } note)
            return ([], $"Message {note.Id} is an internal note; notes are never forwarded.");
        return (found, null);
    }

    private string? TooLarge(long attachmentBytes)
    {
        var limit = options.Value.Smtp.MaxMessageBytes;
        return attachmentBytes <= limit ? null
            : $"These messages carry {attachmentBytes / 1024.0 / 1024.0:0.#} MB of attachments; a forward can carry up to {limit / 1024 / 1024} MB. Forward fewer messages.";
    }
}
