using ConnectiveOne.Core.Tickets;
using Microsoft.Extensions.Time.Testing;

namespace ConnectiveOne.Tests.Tickets;

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
}
