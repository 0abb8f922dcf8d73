using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Persistence;
using Microsoft.EntityFrameworkCore;

namespace ConnectiveOne.Core.Notifications;

/// <summary>One notification as the bell and the API show it; <see cref="Kind"/> in camelCase.</summary>
public sealed record NotificationView(long Id, string Kind, long TicketId, string Text, DateTimeOffset CreatedAt, DateTimeOffset? ReadAt)
{
    public bool Unread => ReadAt is null;

    public static string WireKind(NotificationKind kind) => char.ToLowerInvariant(kind.ToString()[0]) + kind.ToString()[1..];
}

/// <summary>A user's notifications: the newest <see cref="Items"/> and how many are unread in all.</summary>
public sealed record NotificationPage(IReadOnlyList<NotificationView> Items, int Unread);

/// <summary>
/// Reading and marking a user's notifications, their settings, and writing notifications that operators' actions cause.
/// Every change publishes <see cref="ChangeKind.NotificationsChanged"/> for its user, so their open pages (any device,
/// any node) reload the bell.
/// </summary>
public sealed class NotificationCenter(AppDbContext db, ChangeNotifier notifier, TimeProvider clock)
{
    public const int DefaultTake = 30;

    public async Task<NotificationPage> ListAsync(string userId, bool? unread = null, int take = DefaultTake, CancellationToken ct = default)
    {
        var mine = db.Notifications.AsNoTracking().Where(n => n.UserId == userId);
        var shown = unread switch
        {
            true => mine.Where(n => n.ReadAt == null),
            false => mine.Where(n => n.ReadAt != null),
            null => mine,
        };
        var items = await shown.OrderByDescending(n => n.Id).Take(take).ToListAsync(ct);
        var count = await mine.CountAsync(n => n.ReadAt == null, ct);
        return new NotificationPage(items.Select(View).ToList(), count);
    }

    /// <summary>Marks these notifications of the user read (all of them when <paramref name="ids"/> is null); returns how many changed.</summary>
    public async Task<int> MarkReadAsync(string userId, IReadOnlyCollection<long>? ids, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        var unread = db.Notifications.Where(n => n.UserId == userId && n.ReadAt == null);
        if (ids is not null)
            unread = unread.Where(n => ids.Contains(n.Id));
        var changed = await unread.ExecuteUpdateAsync(n => n.SetProperty(x => x.ReadAt, now), ct);
        if (changed > 0)
            Published(userId);
        return changed;
    }

    /// <summary>Writes notifications that an operator's action caused (its own transaction when none is open) and tells their users.</summary>
    public async Task AddAsync(IReadOnlyCollection<Notification> notifications, CancellationToken ct = default)
    {
        if (notifications.Count == 0)
            return;
        db.Notifications.AddRange(notifications);
        await db.SaveChangesAsync(ct);
    }

    /// <summary>After the commit that wrote them: their users' open pages reload.</summary>
    public void Announce(IEnumerable<Notification> notifications)
    {
        foreach (var user in notifications.Select(n => n.UserId).Distinct())
            Published(user);
    }

    private void Published(string userId) =>
        notifier.Publish(new ChangeEvent(ChangeKind.NotificationsChanged, userId) { ForUserId = userId });

    public async Task<NotificationSettings> SettingsAsync(string userId, CancellationToken ct = default) =>
        await db.NotificationSettings.AsNoTracking().FirstOrDefaultAsync(s => s.UserId == userId, ct) ?? NotificationSettings.Default(userId);

    public async Task SaveSettingsAsync(string userId, bool followAllBots, IEnumerable<Guid> followedBots, IEnumerable<NotificationKind> emailKinds,
        CancellationToken ct = default)
    {
        var row = await db.NotificationSettings.FirstOrDefaultAsync(s => s.UserId == userId, ct);
        if (row is null)
            db.NotificationSettings.Add(row = NotificationSettings.Default(userId));
        row.FollowAllBots = followAllBots;
        row.FollowedBots = string.Join(',', followedBots.Distinct());
        row.EmailKinds = string.Join(',', emailKinds.Distinct());
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Active users with their settings: who can be named in a note or follow a bot.</summary>
    public async Task<IReadOnlyList<NotificationUser>> UsersAsync(CancellationToken ct = default)
    {
        var users = await db.Users.AsNoTracking().Where(u => u.IsActive).ToListAsync(ct);
        var settings = await db.NotificationSettings.AsNoTracking().ToDictionaryAsync(s => s.UserId, ct);
        return users.OrderBy(u => u.Name, StringComparer.OrdinalIgnoreCase)
            .Select(u => new NotificationUser(u.Id, u.Name, u.Email, settings.GetValueOrDefault(u.Id) ?? NotificationSettings.Default(u.Id)))
            .ToList();
    }

    public static NotificationView View(Notification n) =>
        new(n.Id, NotificationView.WireKind(n.Kind), n.TicketId, n.Text, n.CreatedAt, n.ReadAt);
}
