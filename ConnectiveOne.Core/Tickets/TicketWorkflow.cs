using System.Text.Json;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Threading;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace ConnectiveOne.Core.Tickets;

/// <summary>
/// The outcome of a merge, split or undo: the ticket to show and the event that records it (what an Undo names), or why
/// not (the HTTP status an API answers with, and words).
/// </summary>
public sealed record WorkflowResult(long? TicketId, int Status, string? Error, long? EventId = null)
{
    public static WorkflowResult Done(long ticketId, long? eventId = null) => new(ticketId, 200, null, eventId);
    public static WorkflowResult NotFound(string error) => new(null, 404, error);
    public static WorkflowResult Invalid(string error) => new(null, 400, error);
    public static WorkflowResult Conflict(string error) => new(null, 409, error);
}

/// <summary>
/// Merging one ticket into another, splitting a message and the ones after it off into a new ticket, and undoing
/// either within <see cref="UndoWindow"/>. Messages move by their TicketId, so threading by stored Message-ID follows
/// them with no change; a merged ticket keeps its row (status <see cref="TicketStatus.Merged"/>, pointing at the target),
/// which is how its number, thread token and sender+subject key keep leading mail to the target (see TicketThreadLookup).
/// Each is recorded as a <see cref="TicketEvent"/> on every ticket it touched.
/// </summary>
public sealed class TicketWorkflow(AppDbContext db, ChangeNotifier notifier, TimeProvider clock)
{
    /// <summary>How long a merge or split can be undone.</summary>
    public static readonly TimeSpan UndoWindow = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The <see cref="ChangeEvent.Summary"/> of the <see cref="ChangeKind.TicketUpdated"/> sent when a ticket's messages
    /// moved (merge, split, undo): an open view reloads the whole thread, not only the header.
    /// </summary>
    public const string ThreadChanged = "Thread changed";

    private sealed record MergeUndo(long[] MessageIds, string[] AddedParticipants, TicketStatus SourceStatus, long[] Repointed);
    private sealed record SplitUndo(long[] MessageIds);

    /// <summary>Moves every message and participant of ticket <paramref name="sourceId"/> into <paramref name="targetId"/>.</summary>
    public async Task<WorkflowResult> MergeAsync(long sourceId, long? targetId, string? actorUserId, CancellationToken ct = default)
    {
        if (targetId is not { } intoId)
            return WorkflowResult.Invalid("Say which ticket to merge into: {\"intoTicketId\": 123}.");
        var source = await db.Tickets.FirstOrDefaultAsync(t => t.Id == sourceId, ct);
        if (source is null)
            return WorkflowResult.NotFound($"There is no ticket #{sourceId}.");
        if (source.MergedIntoTicketId is { } already)
            return WorkflowResult.Conflict($"Ticket #{sourceId} was already merged into #{already}.");
        if (intoId == sourceId)
            return WorkflowResult.Invalid("A ticket cannot be merged into itself.");
        var target = await db.Tickets.FirstOrDefaultAsync(t => t.Id == intoId, ct);
        if (target is null)
            return WorkflowResult.Invalid($"There is no ticket #{intoId} to merge into.");
        if (target.MergedIntoTicketId is { } further)
            return WorkflowResult.Conflict($"Ticket #{intoId} was merged into #{further}: merge into #{further} instead.");

        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var messageIds = await db.Messages.Where(m => m.TicketId == sourceId).Select(m => m.Id).ToArrayAsync(ct);
        await db.Messages.Where(m => m.TicketId == sourceId).ExecuteUpdateAsync(s => s.SetProperty(m => m.TicketId, intoId), ct);
        // Participants are copied, not moved: the merged ticket keeps its own, so an undo only removes what was added.
        var present = await db.Participants.Where(p => p.TicketId == intoId).Select(p => p.Email).ToListAsync(ct);
        var known = new HashSet<string>(present, StringComparer.Ordinal) { target.CustomerEmail };
        var added = new List<string>();
        var people = await db.Participants.AsNoTracking().Where(p => p.TicketId == sourceId).OrderBy(p => p.AddedAt).ToListAsync(ct);
        if (source.CustomerEmail.Length > 0)
            people.Insert(0, new TicketParticipant { TicketId = sourceId, Email = source.CustomerEmail, Name = source.CustomerName, Role = ParticipantRole.Cc });
        foreach (var person in people.Where(p => known.Add(p.Email)))
        {
            db.Participants.Add(new TicketParticipant { TicketId = intoId, Email = person.Email, Name = person.Name, Role = person.Role, AddedAt = now });
            added.Add(person.Email);
        }
        // Tickets merged into the source earlier now lead to the target: a merged ticket never points at a merged one.
        var repointed = await db.Tickets.Where(t => t.MergedIntoTicketId == sourceId).Select(t => t.Id).ToArrayAsync(ct);
        await db.Tickets.Where(t => t.MergedIntoTicketId == sourceId).ExecuteUpdateAsync(s => s.SetProperty(t => t.MergedIntoTicketId, intoId), ct);
        var undo = new MergeUndo(messageIds, [.. added], source.Status, repointed);
        source.Status = TicketStatus.Merged;
        source.MergedIntoTicketId = intoId;
        var count = messageIds.Length == 1 ? "1 message" : $"{messageIds.Length} messages";
        var recorded = db.TicketEvents.Add(new TicketEvent
        {
            TicketId = intoId, Kind = TicketEventKind.Merged, ActorUserId = actorUserId, At = now, OtherTicketId = sourceId,
            Detail = $"merged #{sourceId} “{source.Subject}” into this ticket ({count})", UndoData = JsonSerializer.Serialize(undo),
        });
        db.TicketEvents.Add(new TicketEvent
        {
            TicketId = sourceId, Kind = TicketEventKind.MergedInto, ActorUserId = actorUserId, At = now, OtherTicketId = intoId,
            Detail = $"merged this ticket into #{intoId} “{target.Subject}”",
        });
        await db.SaveChangesAsync(ct);
        await RecountAsync([sourceId, intoId], ct);
        await transaction.CommitAsync(ct);
        Publish(sourceId, intoId);
        return WorkflowResult.Done(intoId, recorded.Entity.Id);
    }

    /// <summary>Moves message <paramref name="messageId"/> and every later one of its ticket into a new ticket.</summary>
    public async Task<WorkflowResult> SplitAsync(long messageId, string? actorUserId, CancellationToken ct = default)
    {
        var message = await db.Messages.AsNoTracking().Where(m => m.Id == messageId)
            .Select(m => new { m.TicketId, m.ReceivedAt, m.Direction, m.FromAddress, m.FromName, m.Subject }).FirstOrDefaultAsync(ct);
        if (message is null)
            return WorkflowResult.NotFound($"There is no message {messageId}.");
        var original = await db.Tickets.FirstAsync(t => t.Id == message.TicketId, ct);
        // The thread's order: (ReceivedAt, Id), as the ticket view shows it.
        var moving = db.Messages.Where(m => m.TicketId == original.Id
                                            && (m.ReceivedAt > message.ReceivedAt || (m.ReceivedAt == message.ReceivedAt && m.Id >= messageId)));
        var staying = await db.Messages.CountAsync(m => m.TicketId == original.Id
                                                         && (m.ReceivedAt < message.ReceivedAt || (m.ReceivedAt == message.ReceivedAt && m.Id < messageId)), ct);
        if (staying == 0)
            return WorkflowResult.Invalid("The first message of a ticket cannot be split off: that would move the whole ticket.");

        var now = clock.GetUtcNow();
        var subject = SubjectNormalizer.Normalize(message.Subject);
        var customer = message.Direction == MessageDirection.Inbound && message.FromAddress.Length > 0 ? message.FromAddress : original.CustomerEmail;
        var split = new Ticket
        {
            Subject = subject.Base.Length > 0 ? subject.Base : original.Subject,
            SubjectKey = subject.MatchKey,
            AddressId = original.AddressId,
            BotId = original.BotId,
            CustomerEmail = customer,
            CustomerName = customer == message.FromAddress ? message.FromName : original.CustomerName,
            AssigneeId = original.AssigneeId,
            ThreadToken = MessageIdFormat.NewThreadToken(),
            CreatedAt = now,
            LastMessageAt = message.ReceivedAt,
        };
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        db.Tickets.Add(split);
        await db.SaveChangesAsync(ct);
        var messageIds = await moving.Select(m => m.Id).ToArrayAsync(ct);
        await moving.ExecuteUpdateAsync(s => s.SetProperty(m => m.TicketId, split.Id), ct);
        // Everyone on the conversation so far stays on both halves (the [#N] rule asks participants).
        var people = await db.Participants.AsNoTracking().Where(p => p.TicketId == original.Id).ToListAsync(ct);
        if (original.CustomerEmail.Length > 0)
            people.Add(new TicketParticipant { Email = original.CustomerEmail, Name = original.CustomerName, Role = ParticipantRole.Cc });
        foreach (var person in people.Where(p => p.Email != customer).DistinctBy(p => p.Email))
            db.Participants.Add(new TicketParticipant { TicketId = split.Id, Email = person.Email, Name = person.Name, Role = person.Role, AddedAt = now });
        var count = messageIds.Length == 1 ? "1 message" : $"{messageIds.Length} messages";
        var recorded = db.TicketEvents.Add(new TicketEvent
        {
            TicketId = original.Id, Kind = TicketEventKind.SplitOff, ActorUserId = actorUserId, At = now, OtherTicketId = split.Id,
            Detail = $"split {count} off into #{split.Id}", UndoData = JsonSerializer.Serialize(new SplitUndo(messageIds)),
        });
        db.TicketEvents.Add(new TicketEvent
        {
            TicketId = split.Id, Kind = TicketEventKind.SplitFrom, ActorUserId = actorUserId, At = now, OtherTicketId = original.Id,
            Detail = $"split this ticket off from #{original.Id} ({count})",
        });
        await db.SaveChangesAsync(ct);
        await RecountAsync([original.Id, split.Id], ct);
        await transaction.CommitAsync(ct);
        notifier.Publish(new ChangeEvent(ChangeKind.TicketCreated, split.Id.ToString()));
        Publish(original.Id, split.Id);
        return WorkflowResult.Done(split.Id, recorded.Entity.Id);
    }

    /// <summary>
    /// Undoes the merge or split that event <paramref name="eventId"/> records, within <see cref="UndoWindow"/>; returns the
    /// ticket it gives back (the merged-away ticket, or the original of a split). Mail that threaded into the target or
    /// the split-off ticket meanwhile stays there.
    /// </summary>
    public async Task<WorkflowResult> UndoAsync(long eventId, string? actorUserId, CancellationToken ct = default)
    {
        var recorded = await db.TicketEvents.FirstOrDefaultAsync(e => e.Id == eventId, ct);
        if (recorded is null)
            return WorkflowResult.NotFound($"There is no ticket event {eventId}.");
        if (recorded is not { Kind: TicketEventKind.Merged or TicketEventKind.SplitOff, UndoData: not null, OtherTicketId: { } other })
            return WorkflowResult.Invalid("Only a merge or a split can be undone.");
        if (recorded.UndoneAt is not null)
            return WorkflowResult.Conflict("This was undone already.");
        var now = clock.GetUtcNow();
        if (now - recorded.At > UndoWindow)
            return WorkflowResult.Conflict($"A merge or split can be undone for {UndoWindow.TotalMinutes:0} minutes; this one is older.");
        return recorded.Kind == TicketEventKind.Merged
            ? await UndoMergeAsync(recorded, other, actorUserId, now, ct)
            : await UndoSplitAsync(recorded, other, actorUserId, now, ct);
    }

    private async Task<WorkflowResult> UndoMergeAsync(TicketEvent merge, long sourceId, string? actorUserId, DateTimeOffset now, CancellationToken ct)
    {
        var undo = JsonSerializer.Deserialize<MergeUndo>(merge.UndoData!)!;
        var targetId = merge.TicketId;
        var source = await db.Tickets.FirstAsync(t => t.Id == sourceId, ct);
        if (source.MergedIntoTicketId != targetId)
            return WorkflowResult.Conflict($"Ticket #{sourceId} is no longer merged into #{targetId}.");
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var ids = undo.MessageIds;
        // The messages may have moved on with the target (merged again): they come back from wherever they are.
        await db.Messages.Where(m => ids.Contains(m.Id)).ExecuteUpdateAsync(s => s.SetProperty(m => m.TicketId, sourceId), ct);
        var emails = undo.AddedParticipants;
        await db.Participants.Where(p => p.TicketId == targetId && emails.Contains(p.Email)).ExecuteDeleteAsync(ct);
        var repointed = undo.Repointed;
        await db.Tickets.Where(t => repointed.Contains(t.Id) && t.MergedIntoTicketId == targetId)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.MergedIntoTicketId, sourceId), ct);
        source.Status = undo.SourceStatus;
        source.MergedIntoTicketId = null;
        return await CommitUndoAsync(transaction, merge, sourceId, $"undid the merge of #{sourceId}", $"undid the merge into #{targetId}",
            sourceId, actorUserId, now, ct);
    }

    // The split-off ticket cannot simply go: replies may already name its number. It is merged back into the original,
    // with everything it holds by now, so mail naming it keeps arriving in the original.
    private async Task<WorkflowResult> UndoSplitAsync(TicketEvent splitEvent, long splitId, string? actorUserId, DateTimeOffset now, CancellationToken ct)
    {
        var originalId = splitEvent.TicketId;
        var split = await db.Tickets.FirstAsync(t => t.Id == splitId, ct);
        if (split.MergedIntoTicketId is not null)
            return WorkflowResult.Conflict($"Ticket #{splitId} was merged since; undo that first.");
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.Messages.Where(m => m.TicketId == splitId).ExecuteUpdateAsync(s => s.SetProperty(m => m.TicketId, originalId), ct);
        await db.Tickets.Where(t => t.MergedIntoTicketId == splitId).ExecuteUpdateAsync(s => s.SetProperty(t => t.MergedIntoTicketId, originalId), ct);
        split.Status = TicketStatus.Merged;
        split.MergedIntoTicketId = originalId;
        return await CommitUndoAsync(transaction, splitEvent, splitId, $"undid the split into #{splitId}", $"undid the split from #{originalId}",
            originalId, actorUserId, now, ct);
    }

    // Both tickets get an "Undone" event; then counts, commit and the live update, as after any move.
    private async Task<WorkflowResult> CommitUndoAsync(IDbContextTransaction transaction, TicketEvent recorded, long otherId, string onRecorded,
        string onOther, long givenBack, string? actorUserId, DateTimeOffset now, CancellationToken ct)
    {
        recorded.UndoneAt = now;
        foreach (var (ticketId, other, detail) in new[] { (recorded.TicketId, otherId, onRecorded), (otherId, recorded.TicketId, onOther) })
            db.TicketEvents.Add(new TicketEvent { TicketId = ticketId, Kind = TicketEventKind.Undone, ActorUserId = actorUserId, At = now, OtherTicketId = other, Detail = detail });
        await db.SaveChangesAsync(ct);
        await RecountAsync([recorded.TicketId, otherId], ct);
        await transaction.CommitAsync(ct);
        Publish(otherId, recorded.TicketId);
        return WorkflowResult.Done(givenBack);
    }

    // Count and last activity from the messages themselves: notes count (as MessageCounter counts them) but are no
    // activity. A ticket left empty keeps its last activity, which the sender+subject rule still reads.
    private async Task RecountAsync(long[] ticketIds, CancellationToken ct)
    {
        foreach (var id in ticketIds)
        {
            var count = await db.Messages.CountAsync(m => m.TicketId == id, ct);
            var last = await db.Messages.Where(m => m.TicketId == id && m.Direction != MessageDirection.Note)
                .OrderByDescending(m => m.ReceivedAt).Select(m => (DateTimeOffset?)m.ReceivedAt).FirstOrDefaultAsync(ct);
            await db.Tickets.Where(t => t.Id == id).ExecuteUpdateAsync(s =>
            {
                s.SetProperty(t => t.MessageCount, count);
                if (last is { } at)
                    s.SetProperty(t => t.LastMessageAt, at);
            }, ct);
        }
    }

    // Both tickets' views reload their thread; lists and counts follow the updates, the inbox list the creation.
    private void Publish(long fromId, long toId)
    {
        notifier.Publish(new ChangeEvent(ChangeKind.TicketUpdated, fromId.ToString(), ThreadChanged));
        notifier.Publish(new ChangeEvent(ChangeKind.TicketUpdated, toId.ToString(), ThreadChanged));
    }
}
