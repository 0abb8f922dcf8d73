using ConnectiveOne.Core.Accounts;
using ConnectiveOne.Core.Tickets;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectiveOne.Core.Notifications;

/// <summary>Why a user is told about a ticket. Stored by name; on the API in camelCase (<c>customerReply</c>).</summary>
public enum NotificationKind
{
    /// <summary>Someone else assigned the ticket to the user.</summary>
    Assigned,
    /// <summary>The customer answered on a ticket assigned to the user.</summary>
    CustomerReply,
    /// <summary>A new ticket arrived in a bot the user follows.</summary>
    NewTicket,
    /// <summary>Someone named the user (<c>@Name</c>) in an internal note.</summary>
    Mention,
    /// <summary>A reply the user wrote bounced (or is delayed).</summary>
    Bounce,
    /// <summary>A ticket assigned to the user came back from its snooze (its time came).</summary>
    SnoozeEnded,
}

/// <summary>One thing that concerns one user, linked to its ticket; unread until <see cref="ReadAt"/> is set.</summary>
public sealed class Notification
{
    public long Id { get; set; }
    public required string UserId { get; set; }
    public NotificationKind Kind { get; set; }
    public long TicketId { get; set; }
    public required string Text { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? ReadAt { get; set; }

    /// <summary>
    /// The user wants this kind by email and it was not caused by automatic mail: <see cref="NotificationMailer"/> queues
    /// the email and clears the flag in one transaction, so a notification written by intake gets its email once, even
    /// when the app stops in between.
    /// </summary>
    public bool EmailPending { get; set; }
}

internal sealed class NotificationConfiguration : IEntityTypeConfiguration<Notification>
{
    public void Configure(EntityTypeBuilder<Notification> notification)
    {
        notification.ToTable("Notifications");
        notification.Property(n => n.Kind).HasConversion<string>().HasMaxLength(16);
        notification.Property(n => n.Text).HasMaxLength(NotificationRules.MaxText);
        notification.Property(n => n.UserId).HasMaxLength(450);
        // The bell reads a user's newest; the unread count filters the same rows.
        notification.HasIndex(n => new { n.UserId, n.Id });
        notification.HasIndex(n => n.EmailPending);
        notification.HasOne<AppUser>().WithMany().HasForeignKey(n => n.UserId).OnDelete(DeleteBehavior.Cascade);
        notification.HasOne<Ticket>().WithMany().HasForeignKey(n => n.TicketId).OnDelete(DeleteBehavior.Cascade);
    }
}
