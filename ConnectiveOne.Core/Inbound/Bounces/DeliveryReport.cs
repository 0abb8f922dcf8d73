using ConnectiveOne.Core.Tickets;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectiveOne.Core.Inbound.Bounces;

/// <summary>
/// A bounce (or delay or success report) that named one of our sent messages: kept with its exact bytes, linked to that
/// message, instead of becoming a message of the customer's conversation. What it said is on the message itself
/// (<see cref="TicketMessage.Delivery"/>, <see cref="TicketMessage.DeliveryDetail"/>, <see cref="TicketMessage.BouncedRecipient"/>);
/// this row is the evidence, so accepted mail is never lost.
/// </summary>
public sealed class DeliveryReport
{
    public long Id { get; set; }

    /// <summary>Our outbound <see cref="TicketMessage"/> it reports on.</summary>
    public long MessageId { get; set; }

    /// <summary>The corporate address it arrived at.</summary>
    public Guid AddressId { get; set; }

    /// <summary>The report's own Message-ID or content hash: the same report delivered twice is kept once per address.</summary>
    public required string DedupKey { get; set; }
    public DateTimeOffset ReceivedAt { get; set; }
    public BounceAction Action { get; set; }
    public string? Recipient { get; set; }
    public string? Status { get; set; }
    public required string Diagnostic { get; set; }

    /// <summary>Who sent the report (usually a MAILER-DAEMON), lower case.</summary>
    public string FromAddress { get; set; } = "";
    public string Subject { get; set; } = "";

    /// <summary>The report exactly as received.</summary>
    public required byte[] Raw { get; set; }
}

internal sealed class DeliveryReportConfiguration : IEntityTypeConfiguration<DeliveryReport>
{
    public void Configure(EntityTypeBuilder<DeliveryReport> report)
    {
        report.ToTable("DeliveryReports");
        report.Property(r => r.Action).HasConversion<string>().HasMaxLength(16);
        report.Property(r => r.DedupKey).HasMaxLength(1000);
        report.Property(r => r.Recipient).HasMaxLength(1000);
        report.Property(r => r.Status).HasMaxLength(16);
        report.Property(r => r.Diagnostic).HasMaxLength(1000);
        report.Property(r => r.FromAddress).HasMaxLength(320);
        report.Property(r => r.Subject).HasMaxLength(1000);
        report.HasIndex(r => new { r.AddressId, r.DedupKey }).IsUnique();
        report.HasIndex(r => r.MessageId);
        report.HasOne<TicketMessage>().WithMany().HasForeignKey(r => r.MessageId).OnDelete(DeleteBehavior.Cascade);
    }
}
