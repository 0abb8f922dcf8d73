using ConnectiveOne.Core.Tickets;
using Microsoft.Extensions.Time.Testing;

namespace ConnectiveOne.Tests.Tickets;

[Trait("Database", "Unused")] // touches no database: runs in the SQLite pass only
public sealed class TicketPresenceTests
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2026-11-27T10:00:00Z"));

    [Fact]
    public void Viewers_are_listed_once_per_person_and_leave_with_their_page()
    {
        var presence = new TicketPresence(_clock);
        var changed = new List<long>();
        presence.Changed += changed.Add;
        Guid annTab1 = Guid.NewGuid(), annTab2 = Guid.NewGuid(), bob = Guid.NewGuid();

        presence.View(annTab1, 7, "ann", "Ann");
        presence.View(annTab2, 7, "ann", "Ann");
        presence.View(bob, 7, "bob", "Bob");
        Assert.Equal(["Ann", "Bob"], presence.ViewersOf(7).Select(v => v.Name));

        presence.View(bob, 8, "bob", "Bob");
        Assert.Equal(["Ann"], presence.ViewersOf(7).Select(v => v.Name));
        Assert.Equal(["Bob"], presence.ViewersOf(8).Select(v => v.Name));
        Assert.Contains(8, changed);

        presence.Leave(annTab1);
        Assert.Single(presence.ViewersOf(7));
        presence.Leave(annTab2);
        Assert.Empty(presence.ViewersOf(7));
    }

    [Fact]
    public void Typing_shows_until_it_expires_or_stops()
    {
        var presence = new TicketPresence(_clock);
        var ann = Guid.NewGuid();
        presence.View(ann, 7, "ann", "Ann");
        presence.Typed(ann);
        Assert.True(presence.ViewersOf(7).Single().Typing);

        _clock.Advance(TicketPresence.TypingFor - TimeSpan.FromSeconds(1));
        Assert.Empty(presence.Expire());
        Assert.True(presence.ViewersOf(7).Single().Typing);

        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal([7L], presence.Expire());
        Assert.False(presence.ViewersOf(7).Single().Typing);

        presence.Typed(ann);
        presence.StoppedTyping(ann);
        Assert.False(presence.ViewersOf(7).Single().Typing);
    }

    [Fact]
    public void Pages_on_another_node_show_until_their_node_stops_repeating_them()
    {
        var presence = new TicketPresence(_clock);
        var changed = new List<long>();
        presence.Changed += changed.Add;
        var carl = new PresenceNote(Guid.NewGuid(), 7, "carl", "Carl", null);

        presence.ApplyFromOtherNode(carl);
        Assert.Equal([new Viewer("carl", "Carl", false)], presence.ViewersOf(7));
        Assert.Empty(presence.Here());

        // Repeated within the window: still there; a repeat of the same state is no change for the pages.
        _clock.Advance(TicketPresence.RemoteFor - TimeSpan.FromSeconds(1));
        changed.Clear();
        presence.ApplyFromOtherNode(carl);
        Assert.Empty(changed);
        _clock.Advance(TimeSpan.FromSeconds(2));
        presence.Expire();
        Assert.Single(presence.ViewersOf(7));

        // Its node died: nothing repeats it, so it goes away by itself.
        _clock.Advance(TicketPresence.RemoteFor);
        Assert.Equal([7L], presence.Expire());
        Assert.Empty(presence.ViewersOf(7));
    }

    [Fact]
    public void Local_changes_are_announced_for_the_other_nodes_and_a_leave_says_so()
    {
        var presence = new TicketPresence(_clock);
        var notes = new List<PresenceNote>();
        presence.ChangedHere += notes.Add;
        var ann = Guid.NewGuid();

        presence.View(ann, 7, "ann", "Ann");
        presence.Typed(ann);
        presence.Leave(ann);

        Assert.Equal([7L, 7L, null], notes.Select(n => n.TicketId));
        Assert.Equal(_clock.GetUtcNow() + TicketPresence.TypingFor, notes[1].TypingUntil);
        Assert.All(notes, n => Assert.Equal(ann, n.Session));
    }
}
