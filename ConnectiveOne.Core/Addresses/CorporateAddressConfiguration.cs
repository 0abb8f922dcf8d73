using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectiveOne.Core.Addresses;

internal sealed class CorporateAddressConfiguration : IEntityTypeConfiguration<CorporateAddress>
{
    public void Configure(EntityTypeBuilder<CorporateAddress> address)
    {
        address.Property(a => a.Email).HasMaxLength(254);
        address.Property(a => a.NormalizedEmail).HasMaxLength(254);
        address.Property(a => a.Domain).HasMaxLength(255);
        address.Property(a => a.TechnicalAddress).HasMaxLength(254);
        address.Property(a => a.Forwarding).HasConversion<string>().HasMaxLength(32);
        address.Property(a => a.DisplayName).HasMaxLength(200);
        address.Property(a => a.FromFormat).HasConversion<string>().HasMaxLength(32);
        address.Property(a => a.Signature).HasMaxLength(4000);
        address.HasIndex(a => a.NormalizedEmail).IsUnique();
        address.HasIndex(a => a.TechnicalAddress).IsUnique();
        address.HasIndex(a => a.Domain);
        address.HasOne<Dns.MailDomain>().WithMany().HasForeignKey(a => a.Domain).OnDelete(DeleteBehavior.Restrict);
    }
}
