using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Bots;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectiveOne.Core.Tickets;

internal sealed class TicketConfiguration : IEntityTypeConfiguration<Ticket>
{
    public void Configure(EntityTypeBuilder<Ticket> ticket)
    {
        ticket.Property(t => t.Status).HasConversion<string>().HasMaxLength(16);
        ticket.Property(t => t.Subject).HasMaxLength(1000);
        ticket.Property(t => t.SubjectKey).HasMaxLength(1000);
        ticket.Property(t => t.CustomerEmail).HasMaxLength(320);
        ticket.Property(t => t.ThreadToken).HasMaxLength(32);
        ticket.Property(t => t.LastMessagePreview).HasMaxLength(MessagePreview.MaxLength);
        ticket.Property(t => t.LastDirection).HasConversion<string>().HasMaxLength(16);
        ticket.HasIndex(t => t.LastMessageAt);
        ticket.HasIndex(t => new { t.BotId, t.Status, t.LastMessageAt });
        // The inbox across all bots by status, and "Mine": each page in order and its count without reading the
        // table (BotId covers RoutedOnly); the status counts read the first one in order, with no sort.
        ticket.HasIndex(t => new { t.Status, t.LastMessageAt, t.BotId });
        ticket.HasIndex(t => new { t.AssigneeId, t.LastMessageAt, t.BotId });
        ticket.HasIndex(t => new { t.AddressId, t.CustomerEmail, t.SubjectKey });
        ticket.HasOne<CorporateAddress>().WithMany().HasForeignKey(t => t.AddressId).OnDelete(DeleteBehavior.Restrict);
        ticket.HasOne<Bot>().WithMany().HasForeignKey(t => t.BotId).OnDelete(DeleteBehavior.SetNull);
        // Indexed: threading and the view ask "which ticket continues #N". Erasing the old ticket keeps the new one.
        ticket.HasOne<Ticket>().WithMany().HasForeignKey(t => t.ContinuesTicketId).OnDelete(DeleteBehavior.SetNull);
        // Indexed: a merge repoints the tickets merged into the one it merges away. Not a foreign key: adding one to this
        // existing table would make SQLite's migration rebuild it outside a transaction (tickets are never erased anyway).
        ticket.HasIndex(t => t.MergedIntoTicketId);
        // The snooze worker asks for the earliest snooze; only snoozed tickets have a value, so the index stays small.
        ticket.HasIndex(t => t.SnoozedUntil);
        ticket.Property(t => t.SnoozeFailure).HasMaxLength(500);
        ticket.HasMany(t => t.Messages).WithOne(m => m.Ticket).HasForeignKey(m => m.TicketId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class TicketMessageConfiguration : IEntityTypeConfiguration<TicketMessage>
{
    public void Configure(EntityTypeBuilder<TicketMessage> message)
    {
        message.Property(m => m.Direction).HasConversion<string>().HasMaxLength(16);
        message.Property(m => m.Delivery).HasConversion<string>().HasMaxLength(16);
        message.Property(m => m.DedupKey).HasMaxLength(1000);
        message.Property(m => m.FromAddress).HasMaxLength(320);
        message.Property(m => m.BouncedRecipient).HasMaxLength(1000);
        // One message per (address, Message-ID or content hash): duplicates from retries, or from SMTP and a
        // webhook at once, are refused by the database itself.
        message.HasIndex(m => new { m.AddressId, m.DedupKey }).IsUnique();
        // Threading looks up Message-IDs within one address; with only an index on the Message-ID, SQLite
        // picked the (AddressId, DedupKey) index and scanned every message of a busy address per lookup.
        message.HasIndex(m => new { m.AddressId, m.MessageIdHeader });
        message.HasIndex(m => new { m.TicketId, m.ReceivedAt });
        message.HasIndex(m => new { m.TicketId, m.FromAddress });
        message.HasMany(m => m.Attachments).WithOne().HasForeignKey(a => a.MessageId).OnDelete(DeleteBehavior.Cascade);
        message.HasOne(m => m.Raw).WithOne().HasForeignKey<RawMessage>(r => r.MessageId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RawMessageConfiguration : IEntityTypeConfiguration<RawMessage>
{
    public void Configure(EntityTypeBuilder<RawMessage> raw) => raw.HasKey(r => r.MessageId);
}

internal sealed class MessageAttachmentConfiguration : IEntityTypeConfiguration<MessageAttachment>
{
    public void Configure(EntityTypeBuilder<MessageAttachment> attachment)
    {
        attachment.Property(a => a.FileName).HasMaxLength(255);
        attachment.Property(a => a.ContentType).HasMaxLength(255);
        attachment.Property(a => a.Sha256).HasMaxLength(64);
        attachment.HasIndex(a => a.Sha256);
        // Sha256 names an AttachmentContent row, written in the same transaction. Not a foreign key: adding one to this
        // existing table would make SQLite's migration rebuild it outside a transaction (EF warns at every fresh start).
    }
}

internal sealed class AttachmentContentConfiguration : IEntityTypeConfiguration<AttachmentContent>
{
    public void Configure(EntityTypeBuilder<AttachmentContent> content)
    {
        content.ToTable("AttachmentContents");
        content.HasKey(c => c.Sha256);
        content.Property(c => c.Sha256).HasMaxLength(64);
    }
}
