using ConnectiveOne.Core.Accounts;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Inbound.Intake;
using ConnectiveOne.Core.Tickets;

namespace ConnectiveOne.Core.Notifications;

/// <summary>
/// The notifications that one intake batch causes, written in its transaction (one insert per user told): new tickets in
/// a bot for its followers, a customer's answer for the ticket's assignee, a bounce for the author of the reply. Looks up
/// users only when the batch has something to tell (mail to addresses no bot serves and unassigned tickets cost nothing).
/// Their <see cref="ChangeKind.NotificationsChanged"/> events join the batch's, published after the commit.
/// </summary>
internal static class IntakeNotifications
{
    /// <summary>A bounce's notification for the reply's author, noted while the batch records the report.</summary>
    public sealed record BounceNotice(string AuthorId, long TicketId, string Text);

    public static async Task WriteAsync(BatchState state, IEnumerable<DeliveryOutcome> outcomes)
    {
        var stored = outcomes.Where(o => o is { Kind: IntakeOutcome.Stored, Message: { Direction: MessageDirection.Inbound, Ticket: not null } })
            .ToList();
        var newTickets = stored.Where(o => o.Created && o.Message!.Ticket!.BotId is not null).ToList();
        var answers = stored.Where(o => !o.Created && o.Message!.Ticket!.AssigneeId is not null).ToList();
        if (newTickets.Count == 0 && answers.Count == 0 && state.Bounces.Count == 0)
            return;

        var users = await UsersAsync(state.Rows);
        var notifications = new List<Notification>();
        foreach (var o in newTickets)
        {
            var (message, ticket) = (o.Message!, o.Message!.Ticket!);
            // An operator writing to the helpdesk from their own mailbox is not told about their own mail.
            notifications.AddRange(NotificationRules.NewTicket(users.Values.Where(u => !Wrote(u, message)), ticket.Id, ticket.Subject,
                ticket.BotId, Automatic(message), state.Now));
        }
        foreach (var o in answers)
        {
            var (message, ticket) = (o.Message!, o.Message!.Ticket!);
            if (users.TryGetValue(ticket.AssigneeId!, out var assignee) && !Wrote(assignee, message))
                notifications.Add(NotificationRules.CustomerReply(assignee, ticket.Id, ticket.Subject,
                    message.FromName ?? message.FromAddress, message.Text, Automatic(message), state.Now));
        }
        foreach (var bounce in state.Bounces)
        {
            if (users.TryGetValue(bounce.AuthorId, out var author))
                notifications.Add(NotificationRules.Create(author, NotificationKind.Bounce, bounce.TicketId, bounce.Text, state.Now));
        }
        foreach (var notification in notifications)
            await state.Rows.InsertAsync(notification);
        foreach (var user in notifications.Select(n => n.UserId).Distinct())
            state.Events.Add(new ChangeEvent(ChangeKind.NotificationsChanged, user) { ForUserId = user });
    }

    private static bool Automatic(TicketMessage message) =>
        (message.Flags & (MessageFlags.AutoReply | MessageFlags.Bounce | MessageFlags.Loop | MessageFlags.Bulk)) != 0;

    private static bool Wrote(NotificationUser user, TicketMessage message) =>
        string.Equals(user.Email, message.FromAddress, StringComparison.OrdinalIgnoreCase);

    // Two small queries, and only for batches that tell someone something: the active users, then the settings rows of
    // those who have any (most keep the defaults).
    private static async Task<Dictionary<string, NotificationUser>> UsersAsync(IntakeRows rows)
    {
        var users = await rows.SelectAsync<AppUser>([nameof(AppUser.Id), nameof(AppUser.Email), nameof(AppUser.DisplayName), nameof(AppUser.UserName)],
            new IntakeRows.Where(nameof(AppUser.IsActive), [true]));
        var ids = users.Select(u => (object)(string)u[0]!).ToList();
        var settings = (await rows.LoadAsync<NotificationSettings>(new IntakeRows.Where(nameof(NotificationSettings.UserId), ids)))
            .ToDictionary(s => s.UserId);
        return users.ToDictionary(u => (string)u[0]!, u =>
        {
            var id = (string)u[0]!;
            var email = (string?)u[1];
            var name = string.IsNullOrWhiteSpace((string?)u[2]) ? email ?? (string?)u[3] ?? id : (string)u[2]!;
            return new NotificationUser(id, name, email, settings.GetValueOrDefault(id) ?? NotificationSettings.Default(id));
        });
    }
}
