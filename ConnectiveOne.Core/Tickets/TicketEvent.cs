using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectiveOne.Core.Tickets;

/// <summary>What happened to a ticket besides mail (API.md "Workflow": <c>events[].kind</c>).</summary>
public enum TicketEventKind
{
    Assigned,
    StatusChanged,
    /// <summary>On the target: another ticket was merged into this one. Undoable (<see cref="TicketWorkflow.UndoWindow"/>).</summary>
    Merged,
    /// <summary>On the ticket that was merged away (shown again once the merge is undone).</summary>
    MergedInto,
    /// <summary>On the original ticket: a message and the ones after it went to a new ticket. Undoable.</summary>
    SplitOff,
    /// <summary>On the new ticket a split made.</summary>
    SplitFrom,
    /// <summary>A merge or split was undone (on every ticket it touched).</summary>
    Undone,
    /// <summary>An operator snoozed the ticket (or changed or ended its snooze).</summary>
    Snoozed,
    /// <summary>The snooze ended by itself: its time came, or the customer answered.</summary>
    SnoozeEnded,
}

/// <summary>
/// One line of a ticket's audit trail, shown inline in the thread: who (<see cref="ActorUserId"/>, null for the system),
/// when, and what in words. Merge and split keep what they moved in <see cref="UndoData"/> so they can be undone.
/// </summary>
public sealed class TicketEvent
{
    public long Id { get; set; }
    public long TicketId { get; set; }
    public TicketEventKind Kind { get; set; }
    public string? ActorUserId { get; set; }
    public DateTimeOffset At { get; set; }

    /// <summary>What happened, in words, without the actor ("changed the status from Open to Resolved").</summary>
    public required string Detail { get; set; }

    /// <summary>The other ticket of a merge or split (the one merged in, the new one), for a link.</summary>
    public long? OtherTicketId { get; set; }

    /// <summary>For <see cref="TicketEventKind.Merged"/> and <see cref="TicketEventKind.SplitOff"/>: JSON of what moved (message ids etc.).</summary>
    public string? UndoData { get; set; }

    /// <summary>When the merge or split this event records was undone; it cannot be undone twice.</summary>
    public DateTimeOffset? UndoneAt { get; set; }
}

internal sealed class TicketEventConfiguration : IEntityTypeConfiguration<TicketEvent>
{
    public void Configure(EntityTypeBuilder<TicketEvent> e)
    {
        e.ToTable("TicketEvents");
        e.Property(x => x.Kind).HasConversion<string>().HasMaxLength(16);
        e.Property(x => x.Detail).HasMaxLength(2000);
        // A ticket's header reads its events in order.
        e.HasIndex(x => new { x.TicketId, x.At });
        e.HasOne<Ticket>().WithMany().HasForeignKey(x => x.TicketId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>
/// An event as the API and the thread show it (API.md: <c>{kind, actor, at, detail}</c>; <c>actor</c> is the operator's
/// display name, null when the system did it). <c>undoableUntil</c> is set for a merge or split not yet undone.
/// </summary>
public sealed record TicketEventView(long Id, string Kind, string? Actor, DateTimeOffset At, string Detail, string? ActorId,
    long? OtherTicketId, DateTimeOffset? UndoableUntil);
