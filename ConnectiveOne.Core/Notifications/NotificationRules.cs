using System.Text.RegularExpressions;

namespace ConnectiveOne.Core.Notifications;

/// <summary>A user a notification may be for: their id, how notes name them, and their choices.</summary>
public sealed record NotificationUser(string Id, string Name, string? Email, NotificationSettings Settings);

/// <summary>
/// Pure decisions: who is told about what, in which words, and whether by email. Never the one who acted; email never
/// for a bounce or for what automatic mail caused (an auto-reply answering our email notification would loop).
/// </summary>
public static class NotificationRules
{
    public const int MaxText = 300;

    public static Notification Create(NotificationUser user, NotificationKind kind, long ticketId, string text, DateTimeOffset now,
        bool automatic = false) => new()
    {
        UserId = user.Id,
        Kind = kind,
        TicketId = ticketId,
        Text = text.Length <= MaxText ? text : text[..(MaxText - 1)] + "…",
        CreatedAt = now,
        EmailPending = WantsEmail(user.Settings, kind, automatic),
    };

    public static bool WantsEmail(NotificationSettings settings, NotificationKind kind, bool automatic) =>
        !automatic && kind != NotificationKind.Bounce && settings.EmailedKinds.Contains(kind);

    /// <summary>New ticket #<paramref name="ticketId"/> in bot <paramref name="botId"/>: everyone who follows that bot.</summary>
    public static IEnumerable<Notification> NewTicket(IEnumerable<NotificationUser> users, long ticketId, string subject, Guid? botId,
        bool automatic, DateTimeOffset now) =>
        users.Where(u => u.Settings.Follows(botId))
            .Select(u => Create(u, NotificationKind.NewTicket, ticketId, $"New ticket #{ticketId}: {subject}", now, automatic));

    /// <summary>The customer wrote on a ticket assigned to <paramref name="assignee"/>.</summary>
    public static Notification CustomerReply(NotificationUser assignee, long ticketId, string subject, string from, string? text,
        bool automatic, DateTimeOffset now) =>
        Create(assignee, NotificationKind.CustomerReply, ticketId,
            $"{from} answered on #{ticketId} ({subject}){(Snippet(text) is { Length: > 0 } snippet ? ": " + snippet : "")}", now, automatic);

    /// <summary>The start of a message's text on one line, for a notification that people read at a glance.</summary>
    public static string Snippet(string? text, int max = 140)
    {
        var line = string.Join(' ', (text ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return line.Length <= max ? line : line[..(max - 1)] + "…";
    }

    /// <summary>
    /// The users a note names as <c>@Name</c> or <c>@email</c> (case-insensitive, not followed by a letter, digit, '.' or '@'
    /// that would make it a longer name), except its author.
    /// </summary>
    public static IReadOnlyList<NotificationUser> Mentioned(string text, IEnumerable<NotificationUser> users, string authorId) =>
        users.Where(u => u.Id != authorId && Handles(u).Any(h => Names(text, h))).ToList();

    /// <summary>What the name picker inserts for a user.</summary>
    public static string Handle(NotificationUser user) => "@" + user.Name;

    private static IEnumerable<string> Handles(NotificationUser user) =>
        user.Email is { Length: > 0 } email ? [user.Name, email] : [user.Name];

    private static bool Names(string text, string handle) =>
        handle.Length > 0 && Regex.IsMatch(text, $@"(?<![\w@.])@{Regex.Escape(handle)}(?![\w@]|\.\w)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant,
            TimeSpan.FromMilliseconds(200));
}
