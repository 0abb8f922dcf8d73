using System.Collections.Immutable;
using ConnectiveOne.Console.State.Ticket;
using ConnectiveOne.Core.Tickets;

namespace ConnectiveOne.Tests.Console.State;

/// <summary>The open ticket's reducers: what stays on screen while a snapshot loads, and that no message is lost meanwhile.</summary>
[Trait("Database", "Unused")] // reducers only: runs in the SQLite pass only
public sealed class TicketStateTests
{
    private static readonly TicketFeature Feature = new();

    private static TicketMessageView Message(long id) =>
        new(id, "Inbound", "carla@customer.test", "Carla", "support@acme.test", null, "Invoice", null, null, null,
            DateTimeOffset.UnixEpoch.AddMinutes(id), $"text {id}", null, false, [], null, null, null, 10, []);

    private static TicketDetails Ticket(long id, params long[] messages) =>
        new(id, id, "Invoice", "Open", null, "carla@customer.test", "Carla", null, messages.Length, DateTimeOffset.UnixEpoch,
            DateTimeOffset.UnixEpoch, Guid.Empty, [.. messages.Select(Message)]);

    private static TicketState Reduce(TicketState state, object action) => (TicketState)Feature.Reduce(state, action);

    [Fact]
    public void Following_a_merged_number_to_its_target_keeps_the_thread_on_screen_and_loses_no_message_that_arrives_meanwhile()
    {
        // #2 was merged into #1: its snapshot is #1's thread. The address then follows to #1.
        var state = Reduce(Feature.Initial, new TicketOpened(2));
        state = Reduce(state, new TicketLoaded(2, Ticket(1, 1, 2, 3)));
        state = Reduce(state, new TicketOpened(1));
        Assert.Equal([1L, 2, 3], state.Shown!.Messages.Select(m => m.Id));
        Assert.True(state.Refreshing);

        // A fourth message arrives after #1's snapshot query ran: shown at once, and kept when the snapshot lands.
        state = Reduce(state, new TicketMessageLoaded(1, Message(4)));
        Assert.Equal([1L, 2, 3, 4], state.Shown!.Messages.Select(m => m.Id));
        state = Reduce(state, new TicketLoaded(1, Ticket(1, 1, 2, 3)));
        Assert.Equal([1L, 2, 3, 4], state.Shown!.Messages.Select(m => m.Id));
        Assert.False(state.Refreshing);
        Assert.Empty(state.Early);
    }

    [Fact]
    public void Opening_another_ticket_clears_the_one_shown_until_its_snapshot_arrives()
    {
        var state = Reduce(Feature.Initial, new TicketOpened(1));
        state = Reduce(state, new TicketLoaded(1, Ticket(1, 1, 2)));
        state = Reduce(state, new TicketOpened(5));
        Assert.Null(state.Shown);
        Assert.Equal(ImmutableList<TicketMessageView>.Empty, state.Messages);
        state = Reduce(state, new TicketMessageLoaded(5, Message(9)));
        state = Reduce(state, new TicketLoaded(5, Ticket(5, 7, 8)));
        Assert.Equal([7L, 8, 9], state.Shown!.Messages.Select(m => m.Id));
    }
}
