namespace ConnectiveOne.Core.Tickets;

/// <summary>
/// Where a ticket stands. <see cref="Merged"/> is not an operator's choice: a ticket merged into another keeps its row
/// (its number and thread token still lead mail to <see cref="Ticket.MergedIntoTicketId"/>) and leaves every list.
/// </summary>
public enum TicketStatus { Open, Pending, Resolved, Merged }

/// <summary>
/// A conversation with one customer through one corporate address. The ticket number shown to people
/// (<c>[#N]</c>) is the id. Tickets of an address that no bot serves yet have no bot; they appear in a bot's
/// inbox once a bot takes the address.
/// </summary>
public sealed class Ticket
{
    public long Id { get; set; }
    public required string Subject { get; set; }

    /// <summary>Normalized subject (reply prefixes stripped, lower case) for the sender + subject rule.</summary>
    public required string SubjectKey { get; set; }

    public TicketStatus Status { get; set; } = TicketStatus.Open;
    public Guid AddressId { get; set; }
    public Guid? BotId { get; set; }

    /// <summary>The customer's address in lower case.</summary>
    public required string CustomerEmail { get; set; }
    public string? CustomerName { get; set; }

    /// <summary>The operator (user id) working on it, if any.</summary>
    public string? AssigneeId { get; set; }

    /// <summary>Per-ticket secret carried in our Message-IDs, so a forged reference cannot join a ticket.</summary>
    public required string ThreadToken { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset LastMessageAt { get; set; }
    public int MessageCount { get; set; }

    /// <summary>
    /// The start of the last message's new words (<see cref="MessagePreview"/>), for the inbox row; written with the
    /// message (intake batch, replies) so the list reads it with the row instead of a query per ticket.
    /// </summary>
    public string? LastMessagePreview { get; set; }

    /// <summary>Who wrote the last message the customer sees: Inbound (the customer answered) or Outbound (we did); null before any.</summary>
    public MessageDirection? LastDirection { get; set; }

    /// <summary>Whether any message of the ticket carries a file (not counting inline images); only ever set, never cleared.</summary>
    public bool HasAttachments { get; set; }

    /// <summary>
    /// The full ticket this one continues: mail that threaded into a ticket at its cap
    /// (<c>ConnectiveOne:Tickets:MaxMessagesPerTicket</c>) opened this one instead. Null for ordinary tickets.
    /// </summary>
    public long? ContinuesTicketId { get; set; }

    /// <summary>
    /// The ticket this one was merged into (its status is then <see cref="TicketStatus.Merged"/>): opening it opens that
    /// one, and threading sends mail naming it there. Never a merged ticket itself (a merge repoints earlier ones).
    /// </summary>
    public long? MergedIntoTicketId { get; set; }

    /// <summary>
    /// Snoozed until then: out of the status lists (the inbox's Snoozed tab shows it) until <see cref="SnoozeWorker"/> opens it
    /// again at that time, or a customer's answer does earlier. Null when not snoozed.
    /// </summary>
    public DateTimeOffset? SnoozedUntil { get; set; }

    /// <summary>
    /// Why the wake at <see cref="SnoozedUntil"/> failed, in words; the worker leaves such a ticket alone (the row shows the
    /// words) until an operator snoozes or wakes it again. Null otherwise.
    /// </summary>
    public string? SnoozeFailure { get; set; }

    public List<TicketMessage> Messages { get; set; } = [];
}
