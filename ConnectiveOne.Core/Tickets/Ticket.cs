namespace ConnectiveOne.Core.Tickets;

public enum TicketStatus { Open, Pending, Resolved }

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
    /// The full ticket this one continues: mail that threaded into a ticket at its cap
    /// (<c>ConnectiveOne:Tickets:MaxMessagesPerTicket</c>) opened this one instead. Null for ordinary tickets.
    /// </summary>
    public long? ContinuesTicketId { get; set; }

    public List<TicketMessage> Messages { get; set; } = [];
}
