using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Nodes;
using ConnectiveOne.Core.Tickets;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectiveOne.Core.Outbound;

public enum OutboundKind
{
    /// <summary>An operator's reply on a ticket.</summary>
    Reply,
    /// <summary>A test email from the setup wizard (step 5), sent at once and never retried.</summary>
    Test,
    /// <summary>A mail to the corporate address that should come back through the redirect.</summary>
    ForwardingTest,
    /// <summary>A notification emailed to the operator it concerns (see Notifications/NotificationMailer).</summary>
    Notification,
}

/// <summary>
/// One mail in the outbox: the exact bytes to send (already DKIM-signed where the domain is verified), where
/// delivery stands and the relay's last words. Test emails stay here as the address's test history.
/// </summary>
public sealed class OutboundMail : ILeasedWork
{
    public Guid Id { get; set; } = Guid.NewGuid();
    public OutboundKind Kind { get; set; }
    public Guid AddressId { get; set; }

    /// <summary>Envelope and header sender (the corporate or the technical address).</summary>
    public required string FromAddress { get; set; }

    /// <summary>Envelope recipients, comma-separated.</summary>
    public required string ToAddress { get; set; }

    public string Subject { get; set; } = "";

    /// <summary>The Message-ID we gave it, without angle brackets.</summary>
    public required string MessageIdHeader { get; set; }

    /// <summary>Whether the bytes carry our DKIM signature.</summary>
    public bool DkimSigned { get; set; }

    /// <summary>The prepared MIME bytes, sent as they are so the DKIM signature stays valid.</summary>
    public required byte[] Mime { get; set; }

    public DeliveryState State { get; set; } = DeliveryState.Queued;
    public int Attempts { get; set; }

    /// <summary>When the worker should try next; null for mail the worker does not send (tests, finished mail).</summary>
    public DateTimeOffset? NextAttemptAt { get; set; }

    /// <summary>The relay's last answer or why the mail waits, in words.</summary>
    public string? Detail { get; set; }

    /// <summary>The ticket message this mail delivers, for replies.</summary>
    public long? TicketMessageId { get; set; }

    /// <summary>The user who caused it (operator for replies, admin for tests).</summary>
    public string? CreatedByUserId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? LastAttemptAt { get; set; }
    public DateTimeOffset? SentAt { get; set; }

    /// <inheritdoc />
    public string? LeaseOwner { get; set; }

    /// <inheritdoc />
    public DateTimeOffset? LeaseExpiresAt { get; set; }
}

internal sealed class OutboundMailConfiguration : IEntityTypeConfiguration<OutboundMail>
{
    public void Configure(EntityTypeBuilder<OutboundMail> mail)
    {
        mail.ToTable("Outbox");
        mail.Property(m => m.Kind).HasConversion<string>().HasMaxLength(16);
        mail.Property(m => m.State).HasConversion<string>().HasMaxLength(16);
        mail.Property(m => m.FromAddress).HasMaxLength(320);
        mail.Property(m => m.ToAddress).HasMaxLength(2000);
        mail.Property(m => m.Subject).HasMaxLength(1000);
        mail.Property(m => m.MessageIdHeader).HasMaxLength(500);
        mail.Property(m => m.LeaseOwner).HasMaxLength(200);
        mail.HasIndex(m => new { m.State, m.NextAttemptAt });
        mail.HasIndex(m => new { m.AddressId, m.Kind, m.CreatedAt });
        mail.HasIndex(m => m.TicketMessageId);
        mail.HasOne<CorporateAddress>().WithMany().HasForeignKey(m => m.AddressId).OnDelete(DeleteBehavior.Cascade);
        mail.HasOne<TicketMessage>().WithMany().HasForeignKey(m => m.TicketMessageId).OnDelete(DeleteBehavior.Cascade);
    }
}
