namespace ConnectiveOne.Core.Events;

/// <summary>What changed; the names match the live events of API.md (camelCase on the wire).</summary>
public enum ChangeKind
{
    TicketCreated,
    MessageAdded,
    TicketUpdated,
    DomainStatusChanged,
    ForwardingStatusChanged,
    DeliveryStatusChanged,
    /// <summary>A user's role, active flag, password, sessions or API tokens changed; open sessions check theirs.</summary>
    UserChanged,
    /// <summary>A user's notifications changed (new ones, or read); <see cref="ChangeEvent.Id"/> is that user. Not sent to hub clients.</summary>
    NotificationsChanged,
    /// <summary>
    /// A user's draft on a ticket was saved or deleted; <see cref="ChangeEvent.Id"/> is the ticket, <see cref="ChangeEvent.ForUserId"/>
    /// the user, the summary <c>Draft saved</c> or <c>Draft discarded</c>. Not sent to hub clients: drafts are for the pages.
    /// </summary>
    DraftChanged,
}

/// <summary>One change, with the id of the thing it concerns and an optional short summary for people.</summary>
public sealed record ChangeEvent(ChangeKind Kind, string Id, string? Summary = null)
{
    public DateTimeOffset At { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>
    /// For <see cref="ChangeKind.MessageAdded"/>: the message that was added, so an open ticket view loads only that one
    /// instead of the whole thread. Null on other kinds (and from publishers that add several at once).
    /// </summary>
    public long? MessageId { get; init; }

    /// <summary>
    /// Published on another node and relayed here through Redis. The live hub forwards only local events: the SignalR
    /// backplane already carries those to the hub clients of every node.
    /// </summary>
    public bool FromOtherNode { get; init; }

    /// <summary>
    /// The one user its notification is for (e.g. the author of a reply that bounced); null when it is for everyone.
    /// Pages still follow the change either way.
    /// </summary>
    public string? ForUserId { get; init; }

    /// <summary>The event name used on the live hub, e.g. <c>ticketCreated</c>.</summary>
    public string WireName => char.ToLowerInvariant(Kind.ToString()[0]) + Kind.ToString()[1..];
}
