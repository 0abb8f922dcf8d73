using ConnectiveOne.Core.Threading;

namespace ConnectiveOne.Tests.Threading;

[Trait("Database", "Unused")] // touches no database: runs in the SQLite pass only
public class TicketCapacityTests
{
    private const int Max = 3;

    // The chain threading found: ticket 1 (the one threading chose), then whatever continues it, with message counts.
    private static (string Name, (long Id, int Count)[] Chain, long? Goes, long? NewContinues)[] Cases() =>
    [
        ("below the cap: stays", [(1, 0)], 1, null),
        ("one below the cap: stays", [(1, Max - 1)], 1, null),
        ("at the cap, nothing continues it: new ticket continuing 1", [(1, Max)], null, 1),
        ("over the cap (cap lowered later): new ticket continuing 1", [(1, Max + 40)], null, 1),
        ("full, continuation has room: the continuation", [(1, Max), (2, 1)], 2, null),
        ("full, continuation full, next has room", [(1, Max), (2, Max), (3, 0)], 3, null),
        ("whole chain full: new ticket continuing the last", [(1, Max), (2, Max), (3, Max)], null, 3),
        ("not full: its continuations are not asked", [(1, 1), (2, 0)], 1, null),
    ];

    [Fact]
    public async Task Placement_table()
    {
        foreach (var (name, chain, goes, newContinues) in Cases())
        {
            var asked = new List<long>();
            var placement = await TicketCapacity.PlaceAsync(new TicketFill(chain[0].Id, chain[0].Count), Max, id =>
            {
                asked.Add(id);
                var at = Array.FindIndex(chain, c => c.Id == id);
                return Task.FromResult(at + 1 < chain.Length ? new TicketFill(chain[at + 1].Id, chain[at + 1].Count) : null);
            });

            Assert.True(goes == placement.TicketId && newContinues == placement.ContinuesTicketId,
                $"{name}: expected ({goes}, {newContinues}), got ({placement.TicketId}, {placement.ContinuesTicketId})");
            // Only full tickets cost a lookup.
            Assert.True(asked.All(id => chain.Single(c => c.Id == id).Count >= Max), $"{name}: asked for the continuation of a ticket with room");
        }
    }

    [Fact]
    public async Task A_chain_that_loops_ends_in_a_new_ticket_instead_of_spinning()
    {
        var placement = await TicketCapacity.PlaceAsync(new TicketFill(1, Max), Max,
            id => Task.FromResult<TicketFill?>(new TicketFill(id == 1 ? 2 : 1, Max)));

        Assert.True(placement.StartsNewTicket);
    }
}
