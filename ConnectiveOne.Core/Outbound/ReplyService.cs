using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Inbound.Intake;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Threading;
using ConnectiveOne.Core.Tickets;
using Microsoft.EntityFrameworkCore;
using MimeKit;

namespace ConnectiveOne.Core.Outbound;

/// <summary>
/// A file attached to a reply. An image pasted into the text has a <paramref name="ContentId"/> (no angle brackets):
/// when the Markdown refers to it (<c>![name](cid:…)</c>) it goes inline, otherwise as an ordinary attachment.
/// </summary>
public sealed record ReplyAttachment(string FileName, string ContentType, byte[] Content, string? ContentId = null);

/// <summary>Who a reply goes to, as typed ("a@b" or "Name &lt;a@b&gt;"); a null list takes the reply-all default (Bcc: nobody).</summary>
public sealed record ReplyRecipients(IReadOnlyList<string>? To = null, IReadOnlyList<string>? Cc = null, IReadOnlyList<string>? Bcc = null);

/// <summary>The reply-all defaults of a ticket: To the one whose message is answered, Cc the other participants.</summary>
public sealed record ReplyDefaults(IReadOnlyList<NamedAddress> To, IReadOnlyList<NamedAddress> Cc);

/// <summary>
/// What the composer shows before sending: the signature that applies (and whether it is the address's), the address's
/// name and quoting default, the message a quote would hold, and why the reply goes From the technical address, if it does.
/// </summary>
public sealed record ReplyContext(string? Signature, bool AddressSignature, string AddressName, bool QuoteByDefault,
    QuotedMessage? Answered, string? TechnicalSenderReason);

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
    /// <summary>At most this many recipients (To, Cc and Bcc together) per reply.</summary>
    public const int MaxRecipients = 50;

    /// <summary>
    /// Queues a reply whose <paramref name="text"/> is Markdown; <paramref name="quote"/> says whether the answered message is
    /// quoted below it (null: the address's default).
    /// </summary>
    public async Task<ReplyResult> QueueReplyAsync(long ticketId, string? text, IReadOnlyList<ReplyAttachment> files,
        string? authorUserId, CancellationToken ct = default, ReplyRecipients? recipients = null, bool? quote = null)
    {
        if (string.IsNullOrWhiteSpace(text) && files.Count == 0)
            return ReplyResult.Fail("A reply needs some text or an attachment.");
        if (InlineImageProblem(files) is { } imageProblem)
            return ReplyResult.Fail(imageProblem);
        var ticket = await db.Tickets.FirstOrDefaultAsync(t => t.Id == ticketId, ct);
        if (ticket is null)
            return ReplyResult.Fail($"There is no ticket #{ticketId}.") with { TicketMissing = true };
        var customerMessage = await AnsweredMessageAsync(ticketId, ct);
        recipients ??= new ReplyRecipients();
        // Refused here with the reason rather than queued: such a reply could never be delivered. Without a To of its
        // own the reply goes to the customer, whose address must then take mail.
        if (recipients.To is null && await composer.ReplyRecipientProblemAsync(ticket.CustomerEmail, ct) is { } recipientProblem)
            return ReplyResult.Fail(recipientProblem);
        var defaults = recipients.To is null || recipients.Cc is null ? await DefaultsAsync(ticket, customerMessage, ct) : null;
        var to = await RecipientsAsync(recipients.To, defaults?.To, "To", ct);
        var cc = await RecipientsAsync(recipients.Cc, defaults?.Cc, "Cc", ct);
        var bcc = await RecipientsAsync(recipients.Bcc, [], "Bcc", ct);
        if ((to.Error ?? cc.Error ?? bcc.Error) is { } invalid)
            return ReplyResult.Fail(invalid);
        if (to.List.Count == 0)
            return ReplyResult.Fail("A reply needs at least one address in To.");
        var envelope = to.List.Concat(cc.List).Concat(bcc.List).DistinctBy(m => m.Address.ToLowerInvariant()).ToList();
        if (envelope.Count > MaxRecipients)
            return ReplyResult.Fail($"A reply can go to at most {MaxRecipients} addresses; this one names {envelope.Count}.");
        var address = await db.Addresses.AsNoTracking().FirstAsync(a => a.Id == ticket.AddressId, ct);
        var author = authorUserId is null ? null : await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == authorUserId, ct);
        var operatorName = ReplySignature.OperatorName(author);
        var composed = MailBody.Render(text, ReplySignature.For(address, author),
            quote ?? address.QuoteByDefault ? Quoted(customerMessage) : null, files.Select(f => f.ContentId).OfType<string>().ToList());

        var sender = await composer.ResolveSenderAsync(address, ct, operatorName);
        var messageId = MessageIdFormat.Generate(ticket.Id, ticket.ThreadToken, composer.InboundDomain);
        var subject = ReplySubject.For(ticket.Subject, ticket.Id);
        var message = composer.Create(sender, messageId);
        // Bcc goes in the envelope only (the outbox row's recipients): no header names those copied blind.
        message.To.AddRange(to.List);
        message.Cc.AddRange(cc.List);
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
        message.Body = OutboundComposer.BuildBody(composed, files);
        var bytes = composer.Finish(message, sender);

        var stored = new List<MessageAttachment>();
        foreach (var file in files)
            stored.Add(new MessageAttachment
            {
                FileName = file.FileName,
                ContentType = file.ContentType,
                Size = file.Content.Length,
                Sha256 = AttachmentContent.HashOf(file.Content),
                ContentId = file.ContentId is { } id && composed.InlineImages.Contains(id) ? id : null,
                IsInline = file.ContentId is { } inline && composed.InlineImages.Contains(inline),
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
            Cc = message.Cc.Count == 0 ? null : message.Cc.ToString(),
            Subject = subject,
            InReplyTo = message.InReplyTo,
            References = message.References.Count == 0 ? null : string.Join(' ', message.References.Select(r => $"<{r}>")),
            Date = message.Date,
            ReceivedAt = now,
            Text = composed.Text,
            Html = composed.Html,
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
            // The thread shows the reply's inline images from our own attachment URLs, as it shows those of mail that came in.
            reply.Html = ThreadHtml(composed.Html, stored);
            await db.CountMessageAsync(ticket.Id, lastMessageAt: now, ct,
                new LastMessage(MessagePreview.Of(text, null), MessageDirection.Outbound, files.Count > 0));
            await AddParticipantsAsync(ticket, to.List.Concat(cc.List), now, ct);
            db.RawMessages.Add(new RawMessage { MessageId = reply.Id, Bytes = bytes });
            db.Outbox.Add(new OutboundMail
            {
                Kind = OutboundKind.Reply,
                AddressId = ticket.AddressId,
                FromAddress = sender.From.Address,
                ToAddress = string.Join(", ", envelope.Select(m => m.Address)),
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

    // Each pasted image names itself once; a Content-ID the HTML and the header could not both carry is refused here.
    private static string? InlineImageProblem(IReadOnlyList<ReplyAttachment> files)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var id in files.Select(f => f.ContentId).OfType<string>())
        {
            if (MailBody.ContentIdProblem(id) is { } problem)
                return problem;
            if (!seen.Add(id))
                return $"Two images of this reply have the same Content-ID \"{id}\".";
        }
        return null;
    }

    // The sent HTML refers to inline images by cid:, which a browser cannot load: the stored copy points at the attachments.
    private static string ThreadHtml(string html, IEnumerable<MessageAttachment> stored) => stored
        .Where(a => a is { IsInline: true, ContentId: not null })
        .Aggregate(html, (current, a) => current.Replace($"\"cid:{a.ContentId}\"", $"\"/files/attachments/{a.Id}\"", StringComparison.Ordinal));

    /// <summary>
    /// What a reply on ticket <paramref name="ticketId"/> by <paramref name="userId"/> would carry besides its text, for the
    /// composer to show before sending; null when there is no such ticket.
    /// </summary>
    public async Task<ReplyContext?> ContextAsync(long ticketId, string? userId, CancellationToken ct)
    {
        var address = await db.Tickets.AsNoTracking().Where(t => t.Id == ticketId)
            .Join(db.Addresses, t => t.AddressId, a => a.Id, (t, a) => a).FirstOrDefaultAsync(ct);
        if (address is null)
            return null;
        var author = userId is null ? null : await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, ct);
        return new ReplyContext(ReplySignature.For(address, author), ReplySignature.AddressWins(address),
            string.IsNullOrWhiteSpace(address.DisplayName) ? address.Email : address.DisplayName.Trim(),
            address.QuoteByDefault, Quoted(await AnsweredMessageAsync(ticketId, ct)),
            await composer.TechnicalSenderReasonAsync(address, ct));
    }

    // The answered message as a reply quotes it: its text, or the words of its HTML when it has no text part.
    private static QuotedMessage? Quoted(TicketMessage? answered)
    {
        if (answered is null)
            return null;
        var text = answered.Text;
        if (string.IsNullOrWhiteSpace(text) && answered.Html is { Length: > 0 } html)
            text = new AngleSharp.Html.Parser.HtmlParser().ParseDocument(html).Body?.TextContent.Trim() ?? "";
        var sender = string.IsNullOrWhiteSpace(answered.FromName) ? answered.FromAddress : $"{answered.FromName.Trim()} <{answered.FromAddress}>";
        return new QuotedMessage(answered.Date ?? answered.ReceivedAt, sender, text ?? "");
    }

    /// <summary>The reply-all defaults of ticket <paramref name="ticketId"/> (for a composer to show); null when there is no such ticket.</summary>
    public async Task<ReplyDefaults?> DefaultsAsync(long ticketId, CancellationToken ct)
    {
        var ticket = await db.Tickets.AsNoTracking().FirstOrDefaultAsync(t => t.Id == ticketId, ct);
        return ticket is null ? null : await DefaultsAsync(ticket, await AnsweredMessageAsync(ticketId, ct), ct);
    }

    // The latest mail that came in from the conversation: the one a reply answers. A third party's answer to a forward is
    // not it: replies go on with the customer's side, and the third party is reached by forwarding again.
    private Task<TicketMessage?> AnsweredMessageAsync(long ticketId, CancellationToken ct) => db.Messages.AsNoTracking()
        .Where(m => m.TicketId == ticketId && m.Direction == MessageDirection.Inbound)
        .Where(m => !db.Participants.Any(p => p.TicketId == ticketId && p.Email == m.FromAddress && p.Role == ParticipantRole.ThirdParty))
        .OrderByDescending(m => m.ReceivedAt).ThenByDescending(m => m.Id).FirstOrDefaultAsync(ct);

    private async Task<ReplyDefaults> DefaultsAsync(Ticket ticket, TicketMessage? answered, CancellationToken ct)
    {
        var participants = await db.Participants.AsNoTracking().Where(p => p.TicketId == ticket.Id).ToListAsync(ct);
        var own = await db.Addresses.AsNoTracking().Select(a => a.NormalizedEmail).ToListAsync(ct);
        bool IsOwn(string a) => CustomerAddress.IsOwn(a, composer.InboundDomain, own);
        var (to, cc) = ConversationAddresses.ReplyAll(new NamedAddress(ticket.CustomerEmail, ticket.CustomerName), participants,
            answered is null ? null : await ReplyAddressOfAsync(answered, ct), IsOwn, answered?.FromAddress);
        return new ReplyDefaults(to.Where(a => a.Email.Length > 0).ToList(), cc);
    }

    // Where the answered message asks replies to go: its Reply-To (read from the stored headers), else its sender.
    private async Task<NamedAddress?> ReplyAddressOfAsync(TicketMessage answered, CancellationToken ct)
    {
        var raw = await db.RawMessages.AsNoTracking().Where(r => r.MessageId == answered.Id).Select(r => r.Bytes).FirstOrDefaultAsync(ct);
        if (raw is not null)
        {
            try
            {
                using var stream = new MemoryStream(raw, writable: false);
                var headers = await HeaderList.LoadAsync(stream, ct);
                if (headers[HeaderId.ReplyTo] is { } replyTo && InternetAddressList.TryParse(replyTo, out var list)
                    && list.Mailboxes.FirstOrDefault(m => CustomerAddress.ProblemWith(m.Address) is null) is { } first)
                    return new NamedAddress(first.Address.ToLowerInvariant(), string.IsNullOrWhiteSpace(first.Name) ? null : first.Name);
            }
            catch (FormatException)
            {
                // Headers that do not parse: the sender stored at intake is still there.
            }
        }
        return answered.FromAddress.Length == 0 ? null : new NamedAddress(answered.FromAddress, answered.FromName);
    }

    // The addresses of one field as MailKit mailboxes; the first unusable one is named in the error.
    private async Task<(IReadOnlyList<MailboxAddress> List, string? Error)> RecipientsAsync(IReadOnlyList<string>? typed,
        IReadOnlyList<NamedAddress>? defaults, string field, CancellationToken ct) => typed is null
        ? ((defaults ?? []).Select(d => new MailboxAddress(d.Name, d.Email)).ToList(), null)
        : await TicketMailQueue.RecipientsAsync(composer, typed, field, ct);

    /// <summary>Null when <paramref name="entry"/> ("a@b" or "Name &lt;a@b&gt;") is one address a reply can go to; otherwise why not, in words.</summary>
    public static string? RecipientProblem(string entry)
    {
        if (entry.Any(char.IsControl))
            return "it contains a line break or another control character.";
        if (!InternetAddressList.TryParse(entry.Trim(), out var parsed) || parsed.Count != 1 || parsed[0] is not MailboxAddress mailbox)
            return "write one address, like name@example.com.";
        return CustomerAddress.ProblemWith(mailbox.Address);
    }

    // Whoever a reply goes to (To and Cc, not Bcc) takes part from now on: the next reply-all keeps them.
    private Task AddParticipantsAsync(Ticket ticket, IEnumerable<MailboxAddress> recipients, DateTimeOffset now, CancellationToken ct) =>
        TicketMailQueue.AddParticipantsAsync(db, ticket, recipients, ParticipantRole.Cc, now, ct);
}

/// <summary>
/// Pure: the signature under a reply. The one rule: the address's signature, when it has one, wins over the operator's own.
/// (An admin's, with <c>{operator.name}</c>, <c>{operator.firstName}</c> and <c>{address.name}</c> filled in, so a company
/// can require one: some EU countries require company details in business mail.)
/// </summary>
public static class ReplySignature
{
    /// <summary>Whether the address's signature applies (it has one) rather than the operator's own.</summary>
    public static bool AddressWins(Addresses.CorporateAddress address) => !string.IsNullOrWhiteSpace(address.Signature);

    /// <summary>The name customers see for an operator: the display name, else the part of the email before the @.</summary>
    public static string? OperatorName(Accounts.AppUser? user) =>
        user is null ? null
        : !string.IsNullOrWhiteSpace(user.DisplayName) ? user.DisplayName.Trim()
        : user.Email is { } email && email.IndexOf('@') is > 0 and var at ? email[..at] : null;

    /// <summary>The signature that applies to a reply from <paramref name="address"/> by <paramref name="author"/>; null when none.</summary>
    public static string? For(Addresses.CorporateAddress address, Accounts.AppUser? author)
    {
        if (AddressWins(address) && address.Signature is { } required)
        {
            var name = OperatorName(author) ?? "";
            return required
                .Replace("{operator.name}", name, StringComparison.Ordinal)
                .Replace("{operator.firstName}", name.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "", StringComparison.Ordinal)
                .Replace("{address.name}", string.IsNullOrWhiteSpace(address.DisplayName) ? address.Email : address.DisplayName.Trim(), StringComparison.Ordinal)
                .TrimEnd();
        }
        return string.IsNullOrWhiteSpace(author?.Signature) ? null : author.Signature.TrimEnd();
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
