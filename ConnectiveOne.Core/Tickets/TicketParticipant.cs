using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectiveOne.Core.Tickets;

/// <summary>How someone takes part in a ticket (API.md "Conversation").</summary>
public enum ParticipantRole
{
    /// <summary>The ticket's customer (<see cref="Ticket.CustomerEmail"/>); not stored as a row.</summary>
    Customer,
    /// <summary>Someone else on the customer's side: in From, To or Cc of mail that came in, or added to a reply's Cc.</summary>
    Cc,
    /// <summary>Someone outside the conversation (a forward's recipient): never copied on a reply unless an operator adds them.</summary>
    ThirdParty,
}

/// <summary>
/// An address other than the customer's that took part in a ticket. One row per (ticket, address); the first role
/// written stays (a third party who later writes in Cc of the customer's mail is still a third party).
/// </summary>
public sealed class TicketParticipant
{
    /// <summary>A Guid so that a row can be added with INSERT … ON CONFLICT DO NOTHING by intake and replies alike.</summary>
    public Guid Id { get; set; } = Guid.NewGuid();
    public long TicketId { get; set; }

    /// <summary>The address in lower case.</summary>
    public required string Email { get; set; }
    public string? Name { get; set; }
    public ParticipantRole Role { get; set; } = ParticipantRole.Cc;
    public DateTimeOffset AddedAt { get; set; }
}

internal sealed class TicketParticipantConfiguration : IEntityTypeConfiguration<TicketParticipant>
{
    public void Configure(EntityTypeBuilder<TicketParticipant> participant)
    {
        participant.ToTable("TicketParticipants");
        participant.Property(p => p.Email).HasMaxLength(320);
        participant.Property(p => p.Name).HasMaxLength(320);
        participant.Property(p => p.Role).HasConversion<string>().HasMaxLength(16);
        // Intake adds participants with INSERT … ON CONFLICT (TicketId, Email) DO NOTHING; the [#N] rule asks this index.
        participant.HasIndex(p => new { p.TicketId, p.Email }).IsUnique();
        participant.HasOne<Ticket>().WithMany().HasForeignKey(p => p.TicketId).OnDelete(DeleteBehavior.Cascade);
    }
}
