using ConnectiveOne.Core.Accounts;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectiveOne.Core.Tickets;

/// <summary>
/// An operator's unsent reply or note on a ticket, kept on the server as they type so it survives a reload, a lost
/// connection or a change of device. One per user per ticket; sending or discarding it deletes it.
/// </summary>
public sealed class TicketDraft
{
    public required string UserId { get; set; }
    public long TicketId { get; set; }
    public string Text { get; set; } = "";

    /// <summary>The To, Cc and Bcc chips as JSON arrays; null while the operator kept the reply-all defaults.</summary>
    public string? To { get; set; }
    public string? Cc { get; set; }
    public string? Bcc { get; set; }

    /// <summary>The composer was in internal-note mode.</summary>
    public bool Note { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>
    /// The composer (one open page) that wrote it last: that page ignores the echo of its own save, while the user's
    /// other pages take the text over.
    /// </summary>
    public Guid Origin { get; set; }
}

internal sealed class TicketDraftConfiguration : IEntityTypeConfiguration<TicketDraft>
{
    public void Configure(EntityTypeBuilder<TicketDraft> draft)
    {
        draft.ToTable("TicketDrafts");
        draft.HasKey(d => new { d.UserId, d.TicketId });
        // "Who else has a draft here" is asked per ticket.
        draft.HasIndex(d => d.TicketId);
        draft.Property(d => d.Text).HasMaxLength(TicketDrafts.MaxTextLength);
        draft.HasOne<Ticket>().WithMany().HasForeignKey(d => d.TicketId).OnDelete(DeleteBehavior.Cascade);
        draft.HasOne<AppUser>().WithMany().HasForeignKey(d => d.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
