using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectiveOne.Core.Dns;

internal sealed class MailDomainConfiguration : IEntityTypeConfiguration<MailDomain>
{
    public void Configure(EntityTypeBuilder<MailDomain> domain)
    {
        domain.HasKey(d => d.Name);
        domain.Property(d => d.Name).HasMaxLength(255);
        domain.Property(d => d.VerificationToken).HasMaxLength(64);
        domain.Property(d => d.Status).HasConversion<string>().HasMaxLength(16);
        domain.HasIndex(d => d.NextCheckAt);
        domain.Property(d => d.LeaseOwner).HasMaxLength(200);
        domain.HasMany(d => d.DkimKeys).WithOne().HasForeignKey(k => k.DomainName).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class DkimKeyConfiguration : IEntityTypeConfiguration<DkimKey>
{
    public void Configure(EntityTypeBuilder<DkimKey> key)
    {
        key.Property(k => k.Selector).HasMaxLength(32);
        key.HasIndex(k => new { k.DomainName, k.Selector }).IsUnique();
    }
}
