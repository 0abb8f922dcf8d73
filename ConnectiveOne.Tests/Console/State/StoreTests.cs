using ConnectiveOne.Console.State;
using ConnectiveOne.Console.State.Notifications;
using ConnectiveOne.Console.State.Session;
using ConnectiveOne.Core.Notifications;
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

    private static NotificationView Item(long id, string text, bool read = false) =>
        new(id, "newTicket", id, text, DateTimeOffset.UnixEpoch, read ? DateTimeOffset.UnixEpoch : null);

    [Fact]
    public void Reducers_are_pure_and_leave_the_old_state_untouched()
    {
        var before = new NotificationsState([Item(1, "one")], 1, true);
        var after = NotificationsFeature.Reduce(before, new NotificationsReadRequested([1]));
        Assert.Null(Assert.Single(before.Recent).ReadAt);
        Assert.Equal(1, before.Unread);
        Assert.NotNull(Assert.Single(after.Recent).ReadAt);
        Assert.Equal(0, after.Unread);
    }

    [Fact]
    public void Marking_one_read_counts_down_only_for_it_and_marking_all_read_clears_the_count_with_unshown_ones()
    {
        var store = NewStore();
        // Five unread in all, of which the newest three are loaded (the bell shows the newest only).
        store.Dispatch(new NotificationsLoaded("u1", new NotificationPage([Item(9, "nine"), Item(8, "eight"), Item(7, "seven", read: true)], 5)));
        store.Dispatch(new NotificationsReadRequested([8, 7]));
        var state = store.Select<NotificationsState>();
        Assert.Equal(4, state.Unread); // 7 was read already
        Assert.Equal([true, false, false], state.Recent.Select(n => n.Unread));

        store.Dispatch(new NotificationsReadRequested(null));
        Assert.Equal(0, store.Select<NotificationsState>().Unread);
        Assert.All(store.Select<NotificationsState>().Recent, n => Assert.False(n.Unread));
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
                store.Dispatch(new NotificationsLoaded("u1", new NotificationPage([Item(1, $"Signed in as {name}")], 1)));
                Done.TrySetResult();
            }
            return Task.CompletedTask;
        }
    }
}
