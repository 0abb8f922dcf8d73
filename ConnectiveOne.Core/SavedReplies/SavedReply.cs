using ConnectiveOne.Core.Accounts;
using ConnectiveOne.Core.Bots;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectiveOne.Core.SavedReplies;

/// <summary>
/// A reply text an operator inserts instead of typing it again. Shared ones are managed by admins and offered to everyone
/// on the tickets of their bot (or of every bot when <see cref="BotId"/> is null); personal ones only to their owner.
/// </summary>
public sealed class SavedReply
{
    public long Id { get; set; }
    public required string Title { get; set; }

    /// <summary>Markdown with variables such as <c>{customer.firstName}</c>, filled when it is inserted (<see cref="SavedReplyVariables"/>).</summary>
    public required string Text { get; set; }

    public Guid? BotId { get; set; }
    public bool Shared { get; set; }

    /// <summary>Who created it: the only one who sees a personal reply; for a shared one, only a record.</summary>
    public required string OwnerId { get; set; }

    /// <summary>How often it was inserted into a reply; the picker offers the most used first.</summary>
    public int UseCount { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

internal sealed class SavedReplyConfiguration : IEntityTypeConfiguration<SavedReply>
{
    public void Configure(EntityTypeBuilder<SavedReply> reply)
    {
        reply.ToTable("SavedReplies");
        reply.Property(r => r.Title).HasMaxLength(SavedReplyRules.MaxTitle);
        reply.Property(r => r.Text).HasMaxLength(SavedReplyRules.MaxText);
        reply.Property(r => r.OwnerId).HasMaxLength(450);
        // Everyone's list reads the shared ones and their own personal ones.
        reply.HasIndex(r => new { r.Shared, r.OwnerId });
        // Users are deactivated, never deleted; a deleted bot takes its replies with it.
        reply.HasOne<AppUser>().WithMany().HasForeignKey(r => r.OwnerId).OnDelete(DeleteBehavior.Cascade);
        reply.HasOne<Bot>().WithMany().HasForeignKey(r => r.BotId).OnDelete(DeleteBehavior.Cascade);
    }
}
