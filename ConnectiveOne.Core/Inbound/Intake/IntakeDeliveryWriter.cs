using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Threading;
using ConnectiveOne.Core.Tickets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace ConnectiveOne.Core.Inbound.Intake;

/// <summary>
/// One message delivered to one address inside a batch of the <see cref="IntakeWriter"/>: a forwarding test mail
/// confirms the redirect; a duplicate points at the stored copy; anything else updates the address's forwarding
/// status, finds (or creates) its ticket through threading, and inserts the message with its attachments.
/// </summary>
internal sealed class IntakeDeliveryWriter(int maxMessagesPerTicket, ILogger<IntakeWriter> logger)
{
    public async Task<DeliveryOutcome> WriteOneAsync(PreparedMessage m, IncomingMessageFacts? facts, Guid addressId, BatchState state)
    {
        if (!state.Addresses.TryGetValue(addressId, out var addressState))
            return new DeliveryOutcome(addressId, IntakeOutcome.AddressGone);
        var address = addressState.Address;

        if (IsForwardingTest(m, address))
            return ConfirmForwarding(addressState, state);

        if (state.Stored.TryGetValue((addressId, m.DedupKey), out var earlier))
            return new DeliveryOutcome(addressId, IntakeOutcome.Duplicate, Earlier: earlier);
        if (state.Batch.FindDuplicate(addressId, m.DedupKey) is { } sameBatch)
            return new DeliveryOutcome(addressId, IntakeOutcome.Duplicate, sameBatch);

        var flags = UpdateForwarding(m, addressState, state);
        // Only mail already read as a bounce naming a returned Message-ID costs this lookup.
        if (m.Bounce is { } bounce && await DeliveryReportWriter.TryRecordAsync(m, bounce, addressId, state, logger) is { } reported)
            return reported;
        var decision = await ResolveThreadAsync(state, m, facts, addressId);
        var (ticket, created, reopened) = await PlaceInTicketAsync(m, decision, addressState, addressId, state);
        var message = NewMessage(m, ticket, addressId, flags, state.Now);
        await InsertMessageAsync(m, message, state);
        await AddParticipantsAsync(m, ticket, state);
        state.Batch.AddMessage(message);
        return new DeliveryOutcome(addressId, IntakeOutcome.Stored, message, Created: created, Reopened: reopened, Rule: decision.Rule);
    }

    private DeliveryOutcome ConfirmForwarding(AddressState addressState, BatchState state)
    {
        var address = addressState.Address;
        address.Forwarding = ForwardingStatus.Confirmed;
        address.ForwardingDetail = $"The test mail sent to {address.Email} came back through the redirect.";
        address.ForwardingTestToken = null;
        address.LastReceivedAt = state.Now;
        addressState.Seen = true;
        state.Events.Add(new ChangeEvent(ChangeKind.ForwardingStatusChanged, address.Id.ToString(), "Forwarding confirmed"));
        logger.LogInformation("Forwarding test mail arrived for address {AddressId}; forwarding confirmed", address.Id);
        return new DeliveryOutcome(address.Id, IntakeOutcome.ForwardingTestConfirmed);
    }

    // Mail arriving says how the address is forwarded: "forwarded as" (not redirected) is flagged on the message.
    private static MessageFlags UpdateForwarding(PreparedMessage m, AddressState addressState, BatchState state)
    {
        var address = addressState.Address;
        var now = state.Now;
        var flags = m.Flags;
        var previousStatus = address.Forwarding;
        address.LastReceivedAt = now;
        addressState.Seen = true;
        if (m.Mime is { } mime && ForwardedAsDetector.Detect(mime, address.Email) is { } reason)
        {
            flags |= MessageFlags.ForwardedAs;
            address.Forwarding = ForwardingStatus.ForwardedNotRedirected;
            address.ForwardingDetail = reason;
        }
        else if (address.Forwarding == ForwardingStatus.Waiting)
        {
            address.Forwarding = ForwardingStatus.Receiving;
            address.ForwardingDetail = null;
        }
        if (address.Forwarding != previousStatus)
            state.Events.Add(new ChangeEvent(ChangeKind.ForwardingStatusChanged, address.Id.ToString(), address.Forwarding.ToString()));
        return flags;
    }

    // The ticket the decision names (reopened by a customer's reply), or a new one.
    private async Task<(Ticket Ticket, bool Created, bool Reopened)> PlaceInTicketAsync(PreparedMessage m,
        ThreadDecision decision, AddressState addressState, Guid addressId, BatchState state)
    {
        var now = state.Now;
        Ticket ticket;
        var created = false;
        var reopened = false;
        long? continues = null;
        var chosen = decision.TicketId is { } ticketKey ? await FindTicketAsync(state, ticketKey) : null;
        // Threading answers with the target of a merged ticket; this catches a merge committed after the batch read its rows.
        if (chosen?.MergedIntoTicketId is { } mergedInto)
            chosen = await FindTicketAsync(state, mergedInto);
        if (chosen is { } threaded)
            (chosen, continues) = await ApplyCapAsync(state, threaded);
        if (chosen is { } found)
        {
            ticket = found;
            // The count is not bumped here: the batch counts what it adds (Touch) and the update adds that in the database.
            if (now >= ticket.LastMessageAt)
            {
                ticket.LastMessageAt = now;
                ticket.LastMessagePreview = m.Preview;
                ticket.LastDirection = MessageDirection.Inbound;
            }
            ticket.HasAttachments |= HasFiles(m);
            if (ticket.Status == TicketStatus.Resolved && !m.IsAutomatic)
            {
                ticket.Status = TicketStatus.Open;
                reopened = true;
            }
            // The customer answered: the snooze is over at once (an auto-reply does not end it). Costs nothing unless snoozed.
            if (ticket.SnoozedUntil is not null && !m.IsAutomatic)
            {
                ticket.SnoozedUntil = null;
                ticket.Status = TicketStatus.Open;
                reopened = true;
                await state.Rows.InsertAsync(new TicketEvent
                {
                    TicketId = ticket.Id, Kind = TicketEventKind.SnoozeEnded, At = now, Detail = "snooze ended: the customer answered",
                });
            }
            state.Batch.Touch(ticket, reopened);
        }
        else
        {
            created = true;
            ticket = new Ticket
            {
                Subject = m.Subject.Length > 0 ? m.Subject : "(no subject)",
                SubjectKey = decision.Subject.MatchKey,
                AddressId = addressId,
                BotId = addressState.BotId,
                CustomerEmail = m.CustomerAddress,
                CustomerName = m.CustomerName,
                ThreadToken = MessageIdFormat.NewThreadToken(),
                CreatedAt = now,
                LastMessageAt = now,
                MessageCount = 1,
                LastMessagePreview = m.Preview,
                LastDirection = MessageDirection.Inbound,
                HasAttachments = HasFiles(m),
                ContinuesTicketId = continues,
            };
            await TimedInsertAsync(state, () => state.Rows.InsertAsync(ticket));
            state.Batch.AddTicket(ticket);
            if (continues is { } full)
                logger.LogInformation("Ticket {FullTicketId} holds {Max} messages; ticket {TicketId} continues it", full,
                    maxMessagesPerTicket, ticket.Id);
        }
        return (ticket, created, reopened);
    }

    // Inline images (a logo in a signature) are part of the body, not files the row should mark.
    private static bool HasFiles(PreparedMessage m)
    {
        foreach (var a in m.Attachments)
            if (!a.IsInline)
                return true;
        return false;
    }

    private static TicketMessage NewMessage(PreparedMessage m, Ticket ticket, Guid addressId, MessageFlags flags, DateTimeOffset now)
    {
        var attachments = new List<MessageAttachment>(m.Attachments.Count);
        foreach (var a in m.Attachments)
        {
            attachments.Add(new MessageAttachment
            {
                FileName = a.FileName,
                ContentType = a.ContentType,
                Size = a.Size,
                Sha256 = a.Sha256,
                ContentId = a.ContentId,
                IsInline = a.IsInline,
            });
        }
        return new TicketMessage
        {
            Ticket = ticket,
            AddressId = addressId,
            Direction = MessageDirection.Inbound,
            MessageIdHeader = m.MessageId,
            DedupKey = m.DedupKey,
            FromAddress = m.FromAddress,
            FromName = m.FromName,
            To = m.To,
            Cc = m.Cc,
            Subject = m.Subject,
            InReplyTo = m.InReplyTo,
            References = m.References,
            Date = m.Date,
            ReceivedAt = now,
            Text = m.Text,
            Html = m.Html,
            HasRemoteImages = m.HasRemoteImages,
            Flags = flags,
            ParseError = m.ParseError,
            RawSize = m.RawLength,
            Raw = new RawMessage { Bytes = m.Raw },
            Attachments = attachments,
        };
    }

    private static async Task InsertMessageAsync(PreparedMessage m, TicketMessage message, BatchState state)
    {
        await TimedInsertAsync(state, async () =>
        {
            // Content before the rows that refer to it; only stored messages bring theirs (duplicates do not).
            foreach (var a in m.Attachments)
            {
                if (state.Contents.Add(a.Sha256))
                    await state.Rows.InsertAsync(new AttachmentContent { Sha256 = a.Sha256, Bytes = a.Content }, a.ContentFile);
            }
            await state.Rows.InsertAsync(message, m.RawFile);
            if (ResolveInlinePlaceholders(message))
                await state.Rows.UpdateHtmlAsync(message);
        });
    }

    // Everyone the message names besides the ticket's customer joins the ticket (as Cc unless already there in
    // another role). Nothing is written for mail that names only its customer, the common case.
    private static async Task AddParticipantsAsync(PreparedMessage m, Ticket ticket, BatchState state)
    {
        foreach (var person in m.People)
        {
            if (person.Email == ticket.CustomerEmail || state.Corporate.Contains(person.Email) || !state.Batch.AddParticipant(ticket.Id, person.Email))
                continue;
            await TimedInsertAsync(state, () => state.Rows.InsertAsync(new TicketParticipant
            {
                TicketId = ticket.Id,
                Email = person.Email,
                Name = person.Name,
                Role = ParticipantRole.Cc,
                AddedAt = state.Now,
            }));
        }
    }

    // Inline images point at attachment ids, known only after the insert.
    private static bool ResolveInlinePlaceholders(TicketMessage message)
    {
        if (message.Html is not { } html || !html.Contains("__c1inline", StringComparison.Ordinal))
            return false;
        var sb = new StringBuilder(html);
        for (var i = 0; i < message.Attachments.Count; i++)
            sb.Replace(PreparedMessage.InlinePlaceholder(i), message.Attachments[i].Id.ToString(CultureInfo.InvariantCulture));
        message.Html = sb.ToString();
        return true;
    }

    private static async Task<ThreadDecision> ResolveThreadAsync(BatchState state, PreparedMessage m, IncomingMessageFacts? facts, Guid addressId)
    {
        // Unreadable mail gets its own ticket: its "subject" and sender say nothing about a conversation.
        if (facts is null)
            return new ThreadDecision(ThreadRule.NewTicket, null, null, m.ParseError, SubjectNormalizer.Normalize(m.Subject));
        var database = state.Prefetch.ForAddress(addressId, new TicketThreadLookup(state.Db, addressId));
        var resolver = new ThreadResolver(new IntakeBatchThreadLookup(database, state.Batch, addressId), IntakeBatchWriter.ThreadOptions);
        return await resolver.ResolveAsync(facts, CancellationToken.None);
    }

    /// <summary>
    /// The cap (<see cref="TicketCapacity"/>): the chosen ticket, the continuation with room, or (null) a new ticket that
    /// continues the returned one. Only a full ticket costs a query: which ticket continues it.
    /// </summary>
    private async Task<(Ticket? Ticket, long? Continues)> ApplyCapAsync(BatchState state, Ticket chosen)
    {
        var placement = await TicketCapacity.PlaceAsync(Fill(state, chosen), maxMessagesPerTicket, async full =>
            await ContinuationAsync(state, full) is { } next && await FindTicketAsync(state, next) is { } ticket ? Fill(state, ticket) : null);
        if (placement.TicketId is not { } id)
            return (null, placement.ContinuesTicketId);
        return (id == chosen.Id ? chosen : await FindTicketAsync(state, id), null);
    }

    private static TicketFill Fill(BatchState state, Ticket ticket) => new(ticket.Id, ticket.MessageCount + state.Batch.AddedTo(ticket.Id));

    // The newest ticket continuing a full one, from this batch or the (ContinuesTicketId) index.
    private static async Task<long?> ContinuationAsync(BatchState state, long fullTicketId)
    {
        if (state.Batch.ContinuationOf(fullTicketId) is { } known)
            return known;
        var rows = await state.Rows.SelectAsync<Ticket>([nameof(Ticket.Id)],
            new IntakeRows.Where(nameof(Ticket.ContinuesTicketId), [fullTicketId]));
        if (rows.Count == 0)
            return null;
        var newest = rows.Max(r => (long)r[0]!);
        state.Batch.RememberContinuation(fullTicketId, newest);
        return newest;
    }

    // The same object for the whole batch: from the batch itself, the prefetch, or (rules 1 and 3) the database.
    private static async Task<Ticket?> FindTicketAsync(BatchState state, long id)
    {
        if ((state.Batch.Find(id) ?? state.Prefetch.FindTicket(id)) is { } known)
            return known;
        if (await TicketById(state.Db, id) is not { } loaded)
            return null;
        state.Prefetch.Remember(loaded);
        return loaded;
    }

    private static async Task TimedInsertAsync(BatchState state, Func<Task> insert)
    {
        var started = Stopwatch.GetTimestamp();
        await insert();
        state.InsertTicks += Stopwatch.GetTimestamp() - started;
    }

    private static bool IsForwardingTest(PreparedMessage m, CorporateAddress address)
    {
        if (address.ForwardingTestToken is not { Length: > 0 } token)
            return false;
        var expected = Encoding.UTF8.GetBytes(token);
        return m.ForwardingTestHeaders.Any(h => CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(h), expected))
            || m.Subject.Contains(token, StringComparison.Ordinal);
    }

    // Rules 1 and 3 name a ticket the prefetch did not load (rare): compiled once, untracked.
    private static readonly Func<AppDbContext, long, Task<Ticket?>> TicketById = EF.CompileAsyncQuery(
        (AppDbContext db, long id) => db.Tickets.AsNoTracking().FirstOrDefault(t => t.Id == id));
}
