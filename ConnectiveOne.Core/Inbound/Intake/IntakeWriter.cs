using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Threading;
using ConnectiveOne.Core.Tickets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ConnectiveOne.Core.Inbound.Intake;

/// <summary>
/// The one writer of inbound mail (group commit). Callers queue prepared messages; this service drains
/// whatever is waiting, threads and inserts it all in ONE transaction, commits (one fsync for the batch, with
/// <c>synchronous=FULL</c>), and only then completes each caller's task, so an SMTP session answers 250 only
/// once its own message is durable. Being the only writer also makes duplicate checks and threading exact:
/// each message of a batch is saved (uncommitted) before the next is threaded, so it sees the earlier ones.
/// A failing batch is retried message by message, so one bad message cannot fail the others.
/// </summary>
public sealed class IntakeWriter(IServiceScopeFactory scopes, ChangeNotifier notifier, TimeProvider clock,
    ILogger<IntakeWriter> logger) : BackgroundService
{
    private const int MaxBatch = 256;

    private readonly Channel<Pending> _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(4096)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private sealed record Pending(PreparedMessage Message, IReadOnlyList<Guid> AddressIds, TaskCompletionSource<IntakeResult> Done);

    /// <summary>Queues a message for its addresses and completes once it is committed (or fails with the reason).</summary>
    public async Task<IntakeResult> SubmitAsync(PreparedMessage message, IReadOnlyList<Guid> addressIds, CancellationToken cancellationToken)
    {
        var pending = new Pending(message, addressIds, new TaskCompletionSource<IntakeResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        await _queue.Writer.WriteAsync(pending, cancellationToken);
        return await pending.Done.Task.WaitAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Pending>(MaxBatch);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                batch.Clear();
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item))
                    batch.Add(item);
                await WriteBatchAsync(batch);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: nothing still queued was committed, so its senders must hear "try again later".
        }
        _queue.Writer.TryComplete();
        while (_queue.Reader.TryRead(out var left))
            left.Done.TrySetException(new OperationCanceledException("The server is stopping."));
    }

    private async Task WriteBatchAsync(List<Pending> batch)
    {
        try
        {
            var (results, events) = await WriteAsync(batch);
            for (var i = 0; i < batch.Count; i++)
                batch[i].Done.TrySetResult(results[i]);
            Publish(events);
            return;
        }
        catch (Exception ex) when (batch.Count > 1)
        {
            logger.LogWarning(ex, "A batch of {Count} inbound messages failed; retrying them one by one", batch.Count);
        }
        catch (Exception ex)
        {
            Fail(batch[0], ex);
            return;
        }

        foreach (var item in batch)
        {
            try
            {
                var (results, events) = await WriteAsync([item]);
                item.Done.TrySetResult(results[0]);
                Publish(events);
            }
            catch (Exception ex)
            {
                Fail(item, ex);
            }
        }
    }

    private void Fail(Pending item, Exception ex)
    {
        logger.LogError(ex, "Inbound message {DedupKey} could not be stored", item.Message.DedupKey);
        item.Done.TrySetException(ex);
    }

    private void Publish(List<ChangeEvent> events)
    {
        foreach (var change in events)
            notifier.Publish(change);
    }

    // The batch finishes even while the app stops: its senders are waiting for the answer.
    private async Task<(List<IntakeResult> Results, List<ChangeEvent> Events)> WriteAsync(IReadOnlyList<Pending> batch)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        db.Database.AutoSavepointsEnabled = false; // the whole batch rolls back together; retries find the culprit
        var events = new List<ChangeEvent>();
        var results = new List<IntakeResult>(batch.Count);
        var bots = new Dictionary<Guid, Guid?>();
        await using var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None);
        foreach (var item in batch)
        {
            var deliveries = new List<IntakeDelivery>(item.AddressIds.Count);
            foreach (var addressId in item.AddressIds)
                deliveries.Add(await WriteOneAsync(db, item.Message, addressId, bots, events));
            results.Add(new IntakeResult(deliveries));
        }
        await transaction.CommitAsync(CancellationToken.None);
        return (results, events);
    }

    private async Task<IntakeDelivery> WriteOneAsync(AppDbContext db, PreparedMessage m, Guid addressId,
        Dictionary<Guid, Guid?> bots, List<ChangeEvent> events)
    {
        var none = CancellationToken.None;
        var now = clock.GetUtcNow();
        var address = await db.Addresses.FindAsync([addressId], none);
        if (address is null)
            return new IntakeDelivery(addressId, IntakeOutcome.AddressGone, null, null);

        if (IsForwardingTest(m, address))
        {
            address.Forwarding = ForwardingStatus.Confirmed;
            address.ForwardingDetail = $"The test mail sent to {address.Email} came back through the redirect.";
            address.ForwardingTestToken = null;
            address.LastReceivedAt = now;
            await db.SaveChangesAsync(none);
            events.Add(new ChangeEvent(ChangeKind.ForwardingStatusChanged, address.Id.ToString(), "Forwarding confirmed"));
            logger.LogInformation("Forwarding test mail arrived for address {AddressId}; forwarding confirmed", address.Id);
            return new IntakeDelivery(addressId, IntakeOutcome.ForwardingTestConfirmed, null, null);
        }

        var existing = await db.Messages.AsNoTracking()
            .Where(x => x.AddressId == addressId && x.DedupKey == m.DedupKey)
            .Select(x => new { x.Id, x.TicketId })
            .FirstOrDefaultAsync(none);
        if (existing is not null)
            return new IntakeDelivery(addressId, IntakeOutcome.Duplicate, existing.TicketId, existing.Id);

        var flags = m.Flags;
        var previousStatus = address.Forwarding;
        address.LastReceivedAt = now;
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
            events.Add(new ChangeEvent(ChangeKind.ForwardingStatusChanged, address.Id.ToString(), address.Forwarding.ToString()));

        var decision = await ResolveThreadAsync(db, m, addressId, now);
        Ticket ticket;
        var created = decision.TicketId is null;
        var reopened = false;
        if (decision.TicketId is { } ticketId && await db.Tickets.FindAsync([ticketId], none) is { } found)
        {
            ticket = found;
            ticket.MessageCount++;
            if (now > ticket.LastMessageAt)
                ticket.LastMessageAt = now;
            if (ticket.Status == TicketStatus.Resolved && !m.IsAutomatic)
            {
                ticket.Status = TicketStatus.Open;
                reopened = true;
            }
        }
        else
        {
            created = true;
            if (!bots.TryGetValue(addressId, out var botId))
            {
                botId = await db.Bots.Where(b => b.EmailAddressId == addressId).Select(b => (Guid?)b.Id).FirstOrDefaultAsync(none);
                bots[addressId] = botId;
            }
            ticket = new Ticket
            {
                Subject = m.Subject.Length > 0 ? m.Subject : "(no subject)",
                SubjectKey = decision.Subject.MatchKey,
                AddressId = addressId,
                BotId = botId,
                CustomerEmail = m.FromAddress,
                CustomerName = m.FromName,
                ThreadToken = MessageIdFormat.NewThreadToken(),
                CreatedAt = now,
                LastMessageAt = now,
                MessageCount = 1,
            };
            db.Tickets.Add(ticket);
        }

        var message = new TicketMessage
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
            RawSize = m.Raw.LongLength,
            Raw = new RawMessage { Bytes = m.Raw },
            Attachments = m.Attachments.Select(a => new MessageAttachment
            {
                FileName = a.FileName,
                ContentType = a.ContentType,
                Size = a.Size,
                Sha256 = a.Sha256,
                ContentId = a.ContentId,
                IsInline = a.IsInline,
            }).ToList(),
        };
        db.Messages.Add(message);
        await db.SaveChangesAsync(none);

        if (message.Html is { } html && html.Contains("__c1inline", StringComparison.Ordinal))
        {
            var sb = new StringBuilder(html);
            for (var i = 0; i < message.Attachments.Count; i++)
                sb.Replace(PreparedMessage.InlinePlaceholder(i), message.Attachments[i].Id.ToString());
            message.Html = sb.ToString();
            await db.SaveChangesAsync(none);
        }

        logger.LogInformation("Inbound message {MessageId} stored in ticket {TicketId} ({Rule}{Created}); flags {Flags}",
            message.Id, ticket.Id, decision.Rule, created ? ", new ticket" : "", flags);
        if (created)
            events.Add(new ChangeEvent(ChangeKind.TicketCreated, ticket.Id.ToString(), ticket.Subject));
        events.Add(new ChangeEvent(ChangeKind.MessageAdded, ticket.Id.ToString(), $"Message {message.Id}"));
        if (!created)
            events.Add(new ChangeEvent(ChangeKind.TicketUpdated, ticket.Id.ToString(), reopened ? "Reopened by a reply" : null));
        return new IntakeDelivery(addressId, IntakeOutcome.Stored, ticket.Id, message.Id);
    }

    private static async Task<ThreadDecision> ResolveThreadAsync(AppDbContext db, PreparedMessage m, Guid addressId, DateTimeOffset now)
    {
        // Unreadable mail gets its own ticket: its "subject" and sender say nothing about a conversation.
        if (m.Mime is null)
            return new ThreadDecision(ThreadRule.NewTicket, null, null, m.ParseError, SubjectNormalizer.Normalize(m.Subject));
        var resolver = new ThreadResolver(new TicketThreadLookup(db, addressId));
        return await resolver.ResolveAsync(IncomingMessageFacts.From(m.Mime, now), CancellationToken.None);
    }

    private static bool IsForwardingTest(PreparedMessage m, CorporateAddress address)
    {
        if (address.ForwardingTestToken is not { Length: > 0 } token)
            return false;
        var expected = Encoding.UTF8.GetBytes(token);
        return m.ForwardingTestHeaders.Any(h => CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(h), expected))
            || m.Subject.Contains(token, StringComparison.Ordinal);
    }
}
