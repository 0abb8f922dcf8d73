using System.Collections.Immutable;
using ConnectiveOne.Core.Notifications;

namespace ConnectiveOne.Console.State.Notifications;

/// <summary>
/// The signed-in user's newest notifications for the bell in the app bar, as stored (they survive reloads and follow
/// the user to other devices); <see cref="Unread"/> is the count shown on it. Not <see cref="Loaded"/> until the first
/// load after sign-in: what arrives after that first load is what the browser may announce.
/// </summary>
public sealed record NotificationsState(ImmutableList<NotificationView> Recent, int Unread, bool Loaded);

/// <summary>What the store holds now for the user (the newest <see cref="NotificationCenter.DefaultTake"/>).</summary>
public sealed record NotificationsLoaded(string UserId, NotificationPage Page);

/// <summary>Mark these read (all when <see cref="Ids"/> is null); the bell shows it at once, the effect stores it.</summary>
public sealed record NotificationsReadRequested(IReadOnlyCollection<long>? Ids);

public sealed class NotificationsFeature : Feature<NotificationsState>
{
    public override NotificationsState Initial => new([], 0, false);

    public NotificationsFeature()
    {
        On<NotificationsLoaded>((_, a) => new NotificationsState([.. a.Page.Items], a.Page.Unread, true));
        On<NotificationsReadRequested>(Reduce);
    }

    public static NotificationsState Reduce(NotificationsState state, NotificationsReadRequested action)
    {
        var now = DateTimeOffset.UtcNow;
        var marked = 0;
        var recent = state.Recent.Select(n =>
        {
            if (n.ReadAt is not null || action.Ids is { } ids && !ids.Contains(n.Id))
                return n;
            marked++;
            return n with { ReadAt = now };
        }).ToImmutableList();
        // All read: nothing is left unread, shown or not; otherwise those shown here that were unread.
        return state with { Recent = recent, Unread = action.Ids is null ? 0 : Math.Max(0, state.Unread - marked) };
    }
}
