namespace ConnectiveOne.Core.Inbound.Intake;

/// <summary>What happened to a message at one of our addresses.</summary>
public enum IntakeOutcome
{
    /// <summary>Stored as a new message of a ticket.</summary>
    Stored,
    /// <summary>The address already had this message (same Message-ID or same bytes); nothing new was stored.</summary>
    Duplicate,
    /// <summary>It was our forwarding test mail: the address's forwarding is now Confirmed; no ticket is made of it.</summary>
    ForwardingTestConfirmed,
    /// <summary>The address was deleted between RCPT TO and commit.</summary>
    AddressGone,
    /// <summary>
    /// A bounce or delivery report about one of our sent messages: recorded on that message (and kept as a
    /// <see cref="Bounces.DeliveryReport"/>); no ticket or conversation message is made of it.
    /// </summary>
    DeliveryReportRecorded,
}

/// <param name="AddressId">The corporate address it was delivered to.</param>
/// <param name="Outcome">What happened.</param>
/// <param name="TicketId">The ticket of the stored (or earlier stored) message.</param>
/// <param name="MessageId">The stored (or earlier stored) message.</param>
public sealed record IntakeDelivery(Guid AddressId, IntakeOutcome Outcome, long? TicketId, long? MessageId);

/// <summary>The result of intake, once it is durable: one delivery per recipient address.</summary>
public sealed record IntakeResult(IReadOnlyList<IntakeDelivery> Deliveries);

/// <summary>Thrown when a message is larger than <c>ConnectiveOne:Smtp:MaxMessageBytes</c>; nothing is stored.</summary>
public sealed class MessageTooLargeException(long size, long limit)
    : Exception($"The message has {size} bytes; the limit is {limit}.")
{
    public long Limit { get; } = limit;
}
