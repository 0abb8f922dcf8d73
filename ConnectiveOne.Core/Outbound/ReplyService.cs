using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Inbound.Intake;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Threading;
using ConnectiveOne.Core.Tickets;
using Microsoft.EntityFrameworkCore;
using MimeKit;

namespace ConnectiveOne.Core.Outbound;

/// <summary>A file attached to a reply.</summary>
public sealed record ReplyAttachment(string FileName, string ContentType, byte[] Content);

/// <summary>The queued reply's ticket message id, or what was wrong in words.</summary>
public sealed record ReplyResult(long? MessageId, string? Error)
{
    public static ReplyResult Fail(string error) => new(null, error);

    /// <summary>True when the failure is that the ticket does not exist (an API answers 404 rather than 400).</summary>
    public bool TicketMissing { get; init; }
}

/// <summary>
/// Queues an operator's reply: the outbound ticket message (with its raw bytes, attachments and their content) and its
/// outbox row are written in one transaction, so a reply is either in the thread and the outbox, or nowhere.
/// </summary>
public sealed class ReplyService(AppDbContext db, OutboundComposer composer, RelayClient relay,
    OutboxSignal signal, ChangeNotifier notifier, TimeProvider clock)
{
    public async Task<ReplyResult> QueueReplyAsync(long ticketId, string? text, IReadOnlyList<ReplyAttachment> files,
        string? authorUserId, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(text) && files.Count == 0)
            return ReplyResult.Fail("A reply needs some text or an attachment.");
        var ticket = await db.Tickets.FirstOrDefaultAsync(t => t.Id == ticketId, ct);
        if (ticket is null)
            return ReplyResult.Fail($"There is no ticket #{ticketId}.") with { TicketMissing = true };
        // Refused here with the reason rather than queued: such a reply could never be delivered.
        if (await composer.ReplyRecipientProblemAsync(ticket.CustomerEmail, ct) is { } recipientProblem)
            return ReplyResult.Fail(recipientProblem);
        var address = await db.Addresses.AsNoTracking().FirstAsync(a => a.Id == ticket.AddressId, ct);
        var customerMessage = await db.Messages.AsNoTracking()
            .Where(m => m.TicketId == ticketId && m.Direction == MessageDirection.Inbound)
            .OrderByDescending(m => m.ReceivedAt).ThenByDescending(m => m.Id).FirstOrDefaultAsync(ct);

        var sender = await composer.ResolveSenderAsync(address, ct);
        var messageId = MessageIdFormat.Generate(ticket.Id, ticket.ThreadToken, composer.InboundDomain);
        var subject = ReplySubject.For(ticket.Subject, ticket.Id);
        var message = composer.Create(sender, messageId);
        message.To.Add(new MailboxAddress(ticket.CustomerName, ticket.CustomerEmail));
        message.Subject = subject;
        if (customerMessage?.MessageIdHeader is { } inReplyTo)
        {
            try
            {
                message.InReplyTo = inReplyTo;
                foreach (var id in MessageIds.Parse(customerMessage.References).Append(inReplyTo).Distinct(StringComparer.Ordinal))
                    message.References.Add(id);
            }
            catch (ArgumentException)
            {
                // A Message-ID MimeKit will not write (hostile mail has them): the reply goes without threading headers,
                // our own Message-ID and [#N] still thread the customer's answer.
                message.InReplyTo = null;
                message.References.Clear();
            }
        }
        var body = new BodyBuilder { TextBody = text ?? "" };
        foreach (var file in files)
            // A type the browser or client made up must not fail the reply: the file goes as plain bytes then.
            body.Attachments.Add(file.FileName, file.Content,
                ContentType.TryParse(file.ContentType, out var type) ? type : new ContentType("application", "octet-stream"));
        message.Body = body.ToMessageBody();
        var bytes = composer.Finish(message, sender);

        var stored = new List<MessageAttachment>();
        foreach (var file in files)
            stored.Add(new MessageAttachment
            {
                FileName = file.FileName,
                ContentType = file.ContentType,
                Size = file.Content.Length,
                Sha256 = AttachmentContent.HashOf(file.Content),
            });

        var now = clock.GetUtcNow();
        var waiting = relay.IsConfigured ? "Waiting to be sent." : RelayClient.NotConfiguredMessage;
        var reply = new TicketMessage
        {
            TicketId = ticket.Id,
            AddressId = ticket.AddressId,
            Direction = MessageDirection.Outbound,
            MessageIdHeader = messageId,
            DedupKey = messageId,
            FromAddress = sender.From.Address.ToLowerInvariant(),
            To = message.To.ToString(),
            Subject = subject,
            InReplyTo = message.InReplyTo,
            References = message.References.Count == 0 ? null : string.Join(' ', message.References.Select(r => $"<{r}>")),
            Date = message.Date,
            ReceivedAt = now,
            Text = text,
            RawSize = bytes.Length,
            Delivery = DeliveryState.Queued,
            DeliveryDetail = waiting,
            AuthorUserId = authorUserId,
            Attachments = stored,
        };

        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            // Content is shared by SHA-256 and added only when missing, by the insert itself as intake does: on PostgreSQL
            // two replies (on two nodes) adding the same new file at once both succeed; "look, then add" let the second
            // fail on the key.
            foreach (var content in files.Zip(stored, (f, a) => new AttachmentContent { Sha256 = a.Sha256, Bytes = f.Content }).DistinctBy(c => c.Sha256))
                await db.InsertIfMissingAsync(content, ct);
            db.Messages.Add(reply);
            await db.SaveChangesAsync(ct);
            await Search.SearchIndex.AddAsync(db, reply, ct);
            await db.CountMessageAsync(ticket.Id, lastMessageAt: now, ct);
            db.RawMessages.Add(new RawMessage { MessageId = reply.Id, Bytes = bytes });
            db.Outbox.Add(new OutboundMail
            {
                Kind = OutboundKind.Reply,
                AddressId = ticket.AddressId,
                FromAddress = sender.From.Address,
                ToAddress = ticket.CustomerEmail,
                Subject = subject,
                MessageIdHeader = messageId,
                DkimSigned = sender.Signed,
                Mime = bytes,
                NextAttemptAt = now,
                Detail = waiting,
                TicketMessageId = reply.Id,
                CreatedByUserId = authorUserId,
                CreatedAt = now,
            });
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
        }

        signal.Wake();
        // messageAdded carries the ticket id, like ticketCreated/ticketUpdated, and the reply's id: open views append it.
        notifier.Publish(new ChangeEvent(ChangeKind.MessageAdded, ticket.Id.ToString(), $"Reply queued on #{ticket.Id}") { MessageId = reply.Id });
        return new ReplyResult(reply.Id, null);
    }
}

/// <summary>The subject of our replies: <c>Re: &lt;subject&gt; [#N]</c>, with prefixes and tokens never doubled.</summary>
public static class ReplySubject
{
    public static string For(string ticketSubject, long ticketNumber)
    {
        var baseSubject = SubjectNormalizer.Normalize(ticketSubject, stripListTags: false, extraPrefixes: null).Base;
        return baseSubject.Length == 0 ? $"Re: [#{ticketNumber}]" : $"Re: {baseSubject} [#{ticketNumber}]";
    }
}
