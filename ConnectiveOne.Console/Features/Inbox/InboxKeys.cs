namespace ConnectiveOne.Console.Features.Inbox;

/// <summary>
/// The inbox's keys, in one list: the <c>?</c> overlay shows it, tooltips quote it, and the browser test presses every
/// key in it. app.js (<c>inboxKeys</c>, and <c>g i</c> in every page) sends the same keys to <see cref="InboxPage"/>.
/// </summary>
public static class InboxKeys
{
    public sealed record Key(string Code, string Shown, string Does);

    public static readonly IReadOnlyList<Key> All =
    [
        new("j", "j", "Next ticket in the list"),
        new("k", "k", "Previous ticket in the list"),
        new("Enter", "Enter", "Open the ticket"),
        new("r", "r", "Reply (moves to the reply box)"),
        new("n", "n", "Internal note (the reply box as a note)"),
        new("a", "a", "Assign the ticket to me"),
        new("e", "e", "Resolve the ticket"),
        new("s", "s", "Snooze the ticket (opens the snooze menu)"),
        new("/", "/", "Search"),
        new("g i", "g then i", "Go to the inbox"),
        new("?", "?", "Show these keys"),
        new("Escape", "Esc", "Step back one level: close a menu or this list, leave a field, then close the ticket"),
    ];

    /// <summary>"Status (e resolves)" style tooltip text for the control a key acts on.</summary>
    public static string Hint(string label, string code) =>
        $"{label} (key {All.Single(k => k.Code == code).Shown}: {All.Single(k => k.Code == code).Does.ToLowerInvariant()})";
}
