using ConnectiveOne.Core.Addresses;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectiveOne.Core.Bots;

/// <summary>A bot is an inbox. Its Email channel takes one verified address; one address serves one bot.</summary>
public sealed class Bot
{
    public Guid Id { get; set; } = Guid.NewGuid();
    public required string Name { get; set; }

    /// <summary>The address of the Email channel, or null when the channel is off. Unique across bots.</summary>
    public Guid? EmailAddressId { get; set; }
    public CorporateAddress? EmailAddress { get; set; }

    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
}

internal sealed class BotConfiguration : IEntityTypeConfiguration<Bot>
{
    public void Configure(EntityTypeBuilder<Bot> bot)
    {
        bot.Property(b => b.Name).HasMaxLength(100);
        // The database itself guarantees "one address serves one bot", also under concurrent requests.
        bot.HasIndex(b => b.EmailAddressId).IsUnique();
        bot.HasOne(b => b.EmailAddress).WithMany().HasForeignKey(b => b.EmailAddressId).OnDelete(DeleteBehavior.Restrict);
    }
}
