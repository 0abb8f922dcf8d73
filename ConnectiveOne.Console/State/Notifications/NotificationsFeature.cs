using System.Collections.Immutable;

namespace ConnectiveOne.Console.State.Notifications;

public sealed record Notification(string Kind, string Id, string Text, DateTimeOffset At);

/// <summary>Recent notifications for the bell in the app bar; <see cref="Unread"/> is the count shown on it.</summary>
public sealed record NotificationsState(ImmutableList<Notification> Recent, int Unread);

public sealed record NotificationReceived(Notification Notification);
public sealed record NotificationsRead;

public sealed class NotificationsFeature : Feature<NotificationsState>
{
    public const int Keep = 20;

    public override NotificationsState Initial => new([], 0);

    public NotificationsFeature()
    {
        On<NotificationReceived>(Reduce);
        On<NotificationsRead>((state, _) => state with { Unread = 0 });
    }

    public static NotificationsState Reduce(NotificationsState state, NotificationReceived action)
    {
        var recent = state.Recent.Insert(0, action.Notification);
        if (recent.Count > Keep)
            recent = recent.RemoveRange(Keep, recent.Count - Keep);
        return new NotificationsState(recent, Math.Min(state.Unread + 1, 99));
    }
}
