using System.Collections.Immutable;
using ConnectiveOne.Console.State;
using ConnectiveOne.Console.State.Notifications;
using ConnectiveOne.Console.State.Session;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConnectiveOne.Tests.Console.State;

[Trait("Database", "Unused")] // touches no database: runs in the SQLite pass only
public sealed class StoreTests
{
    private static Store NewStore(params IEffect[] effects) =>
        new([new SessionFeature(), new NotificationsFeature()], effects, NullLogger<Store>.Instance);

    [Fact]
    public void Features_start_from_their_initial_state()
    {
        var store = NewStore();
        Assert.False(store.Select<SessionState>().IsSignedIn);
        Assert.Equal(0, store.Select<NotificationsState>().Unread);
    }

    [Fact]
    public void Reducers_are_pure_and_leave_the_old_state_untouched()
    {
        var before = new NotificationsState(ImmutableList<Notification>.Empty, 0);
        var after = NotificationsFeature.Reduce(before, new NotificationReceived(new Notification("x", "1", "one", DateTimeOffset.UnixEpoch)));
        Assert.Empty(before.Recent);
        Assert.Single(after.Recent);
        Assert.Equal(1, after.Unread);
    }

    [Fact]
    public void Notifications_keep_the_newest_twenty_and_cap_the_count()
    {
        var store = NewStore();
        for (var i = 0; i < 150; i++)
            store.Dispatch(new NotificationReceived(new Notification("ticketCreated", i.ToString(), $"Ticket {i}", DateTimeOffset.UnixEpoch)));
        var state = store.Select<NotificationsState>();
        Assert.Equal(NotificationsFeature.Keep, state.Recent.Count);
        Assert.Equal("Ticket 149", state.Recent[0].Text);
        Assert.Equal(99, state.Unread);

        store.Dispatch(new NotificationsRead());
        Assert.Equal(0, store.Select<NotificationsState>().Unread);
        Assert.Equal(NotificationsFeature.Keep, store.Select<NotificationsState>().Recent.Count);
    }

    [Fact]
    public void Unknown_actions_change_nothing_but_still_notify()
    {
        var store = NewStore();
        var before = store.Select<SessionState>();
        var changes = 0;
        store.StateChanged += () => changes++;
        store.Dispatch(new object());
        Assert.Same(before, store.Select<SessionState>());
        Assert.Equal(1, changes);
    }

    [Fact]
    public async Task Effects_run_after_the_reducers_and_their_dispatches_are_reduced_in_order()
    {
        var effect = new SignInNotifier();
        var store = NewStore(effect);
        store.Dispatch(new SessionChanged("u1", "Ann", "ann@example.test", IsAdmin: true));
        await effect.Done.Task.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal("Ann", effect.NameSeenByEffect);
        var notifications = store.Select<NotificationsState>();
        Assert.Equal("Signed in as Ann", Assert.Single(notifications.Recent).Text);
    }

    [Fact]
    public void A_dispatch_from_a_subscriber_is_queued_not_reentrant()
    {
        var store = NewStore();
        var order = new List<string>();
        store.StateChanged += () =>
        {
            order.Add(store.Select<SessionState>().Name ?? "none");
            if (store.Select<SessionState>().Name == "first")
                store.Dispatch(new SessionChanged("u", "second", null, false));
        };
        store.Dispatch(new SessionChanged("u", "first", null, false));
        Assert.Equal(["first", "second"], order);
    }

    /// <summary>An effect that only dispatches, like Fluxor's: greets a user once the session is known.</summary>
    private sealed class SignInNotifier : IEffect
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public string? NameSeenByEffect { get; private set; }

        public Task HandleAsync(object action, Store store)
        {
            if (action is SessionChanged { Name: { } name })
            {
                NameSeenByEffect = store.Select<SessionState>().Name;
                store.Dispatch(new NotificationReceived(new Notification("session", "u1", $"Signed in as {name}", DateTimeOffset.UnixEpoch)));
                Done.TrySetResult();
            }
            return Task.CompletedTask;
        }
    }
}
