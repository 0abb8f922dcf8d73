namespace ConnectiveOne.Core.Threading;

/// <summary>A ticket's id and how many messages it holds (counting those the current batch adds).</summary>
public sealed record TicketFill(long TicketId, int MessageCount);

/// <summary>
/// Where a message goes once threading chose a ticket: that ticket, or the first of its continuations with room, or
/// (all full) a new ticket continuing the last of them. <see cref="TicketId"/> null means "create a new ticket" and then
/// <see cref="ContinuesTicketId"/> says which one it continues.
/// </summary>
public sealed record CapPlacement(long? TicketId, long? ContinuesTicketId)
{
    public bool StartsNewTicket => TicketId is null;
}

/// <summary>
/// The per-ticket cap (issue #12): a ticket takes at most <c>MaxMessagesPerTicket</c> inbound messages. Further mail
/// that threads into it, by any rule (a reply to an old message of it, its <c>[#N]</c> token, sender and subject),
/// goes to the ticket that continues it, so one conversation stays in one place after the cap too; when that one is
/// full as well, to the next, and when the chain ends full, into a new ticket continuing the last.
/// </summary>
/// <remarks>
/// Only a full ticket costs a lookup (which ticket continues it), so mail below the cap costs nothing extra.
/// </remarks>
public static class TicketCapacity
{
    /// <summary>Continuations followed at most, so a corrupted chain (a loop) cannot hold up intake.</summary>
    public const int MaxHops = 64;

    /// <param name="chosen">The ticket threading chose, with its message count.</param>
    /// <param name="maxMessages">The cap.</param>
    /// <param name="continuationOf">The ticket that continues a given one (the newest, if several), or null.</param>
    public static async Task<CapPlacement> PlaceAsync(TicketFill chosen, int maxMessages, Func<long, Task<TicketFill?>> continuationOf)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessages, 1);
        var current = chosen;
        for (var hops = 0; current.MessageCount >= maxMessages; hops++)
        {
            if (hops == MaxHops || await continuationOf(current.TicketId) is not { } next)
                return new CapPlacement(null, current.TicketId);
            current = next;
        }
        return new CapPlacement(current.TicketId, null);
    }
}
