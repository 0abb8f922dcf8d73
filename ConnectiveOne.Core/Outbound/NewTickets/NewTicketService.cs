using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Threading;
using ConnectiveOne.Core.Tickets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace ConnectiveOne.Core.Outbound.NewTickets;

/// <summary>A new outbound conversation as an operator writes it (API.md "Conversation", <c>POST /api/v1/tickets</c>).</summary>
public sealed record NewTicketRequest(Guid AddressId, IReadOnlyList<string>? To, IReadOnlyList<string>? Cc, string? Subject, string? Text,
    IReadOnlyList<ReplyAttachment> Files);

/// <summary>An address a new email can go out from, with the bot that serves it (null: none yet).</summary>
public sealed record SenderOption(Guid AddressId, string Email, string? DisplayName, string? BotName);

/// <summary>The new ticket's id, or what was wrong in words.</summary>
public sealed record NewTicketResult(long? TicketId, string? Error)
{
    public static NewTicketResult Fail(string error) => new(null, error);
}

/// <summary>
/// Starts a conversation from our side: a ticket (status Pending, as it waits for the customer) whose customer is the
/// first To, and its first mail through the outbox From the chosen address with the same From, name and signature
/// rules as a reply. The mail carries our Message-ID and the <c>[#N]</c> tag, so the customer's answer threads into it.
/// </summary>
public sealed class NewTicketService(AppDbContext db, OutboundComposer composer, TicketMailQueue queue, TimeProvider clock,
    ILogger<NewTicketService> logger)
{
    /// <summary>Longest subject taken (the ticket's column holds 1000 characters; the tag is added).</summary>
    public const int MaxSubjectLength = 900;

    /// <summary>The addresses to choose From, by bot name then address.</summary>
    public async Task<IReadOnlyList<SenderOption>> SendersAsync(CancellationToken ct)
    {
        var addresses = await db.Addresses.AsNoTracking()
            .Select(a => new { a.Id, a.Email, a.DisplayName, Bot = db.Bots.Where(b => b.EmailAddressId == a.Id).Select(b => b.Name).FirstOrDefault() })
            .ToListAsync(ct);
        return addresses.Select(a => new SenderOption(a.Id, a.Email, a.DisplayName, a.Bot))
            .OrderBy(a => a.BotName ?? "\uffff", StringComparer.CurrentCultureIgnoreCase).ThenBy(a => a.Email, StringComparer.Ordinal).ToList();
    }

    public async Task<NewTicketResult> CreateAsync(NewTicketRequest request, string? authorUserId, CancellationToken ct = default)
    {
        var address = await db.Addresses.AsNoTracking().FirstOrDefaultAsync(a => a.Id == request.AddressId, ct);
        if (address is null)
            return NewTicketResult.Fail(request.AddressId == Guid.Empty
                ? "Choose the address to send from ('addressId')."
                : $"There is no address with id {request.AddressId}: choose one of this helpdesk's addresses.");
        var subject = request.Subject?.Trim() ?? "";
        if (subject.Length == 0)
            return NewTicketResult.Fail("A new email needs a subject.");
        if (subject.Length > MaxSubjectLength || subject.Any(char.IsControl))
            return NewTicketResult.Fail(subject.Length > MaxSubjectLength
                ? $"The subject is {subject.Length} characters long; at most {MaxSubjectLength} are taken."
                : "The subject contains a line break or another control character.");
        if (string.IsNullOrWhiteSpace(request.Text) && request.Files.Count == 0)
            return NewTicketResult.Fail("A new email needs some text or an attachment.");
        var to = await TicketMailQueue.RecipientsAsync(composer, request.To, "To", ct);
        var cc = await TicketMailQueue.RecipientsAsync(composer, request.Cc, "Cc", ct);
        if ((to.Error ?? cc.Error) is { } invalid)
            return NewTicketResult.Fail(invalid);
        if (to.List.Count == 0)
            return NewTicketResult.Fail("A new email needs an address in To: the customer it goes to.");
        var envelope = to.List.Concat(cc.List).DistinctBy(m => m.Address.ToLowerInvariant()).ToList();
        if (envelope.Count > ReplyService.MaxRecipients)
            return NewTicketResult.Fail($"A new email can go to at most {ReplyService.MaxRecipients} addresses; this one names {envelope.Count}.");

        var author = authorUserId is null ? null : await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == authorUserId, ct);
        // Written like a reply: Markdown with the signature that applies, sent as text and sanitized HTML.
        var body = MailBody.Render(request.Text, ReplySignature.For(address, author));
        var sender = await composer.ResolveSenderAsync(address, ct, ReplySignature.OperatorName(author));
        var botId = await db.Bots.AsNoTracking().Where(b => b.EmailAddressId == address.Id).Select(b => (Guid?)b.Id).FirstOrDefaultAsync(ct);
        var customer = to.List[0];
        var now = clock.GetUtcNow();
        var ticket = new Ticket
        {
            Subject = subject,
            SubjectKey = SubjectNormalizer.Normalize(subject).MatchKey,
            Status = TicketStatus.Pending,
            AddressId = address.Id,
            BotId = botId,
            CustomerEmail = customer.Address.ToLowerInvariant(),
            CustomerName = string.IsNullOrWhiteSpace(customer.Name) ? null : customer.Name.Trim(),
            ThreadToken = MessageIdFormat.NewThreadToken(),
            CreatedAt = now,
            LastMessageAt = now,
            MessageCount = 1,
        };

        TicketMessage row;
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            db.Tickets.Add(ticket);
            await db.SaveChangesAsync(ct);
            // The mail needs the ticket's number (Message-ID and [#N]), so it is composed once the row has its id.
            var message = composer.Create(sender, MessageIdFormat.Generate(ticket.Id, ticket.ThreadToken, composer.InboundDomain));
            message.To.AddRange(to.List);
            message.Cc.AddRange(cc.List);
            message.Subject = $"{subject} [#{ticket.Id}]";
            message.Body = OutboundComposer.BuildBody(body, request.Files);
            var bytes = composer.Finish(message, sender);
            row = await queue.AddAsync(ticket, new TicketMail(message, bytes, sender, body.Text, request.Files, envelope, Html: body.Html), authorUserId, ct);
            await queue.AddParticipantsAsync(ticket, to.List.Skip(1).Concat(cc.List), ParticipantRole.Cc, ct);
            await transaction.CommitAsync(ct);
        }
        logger.LogInformation("Ticket {TicketId} started from address {AddressId}; its first mail is message {MessageId}", ticket.Id, address.Id, row.Id);
        queue.Announce(ticket.Id, row.Id, ticket.Subject, ticketCreated: true);
        return new NewTicketResult(ticket.Id, null);
    }
}
