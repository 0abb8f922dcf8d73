using ConnectiveOne.Core.Accounts;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectiveOne.Core.Notifications;

/// <summary>
/// A user's choices: which bots' new tickets concern them, and which kinds also come by email. A user without a row has
/// the defaults (<see cref="Default"/>): every bot followed, no email.
/// </summary>
public sealed class NotificationSettings
{
    public required string UserId { get; set; }

    /// <summary>New tickets of every bot (the default); otherwise only those of <see cref="FollowedBots"/>.</summary>
    public bool FollowAllBots { get; set; } = true;

    /// <summary>Comma-separated bot ids, read when <see cref="FollowAllBots"/> is off.</summary>
    public string FollowedBots { get; set; } = "";

    /// <summary>Comma-separated <see cref="NotificationKind"/> names that are also sent by email.</summary>
    public string EmailKinds { get; set; } = "";

    public static NotificationSettings Default(string userId) => new() { UserId = userId };

    public IReadOnlySet<Guid> FollowedBotIds =>
        FollowedBots.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => Guid.TryParse(s, out var g) ? g : Guid.Empty)
            .Where(g => g != Guid.Empty).ToHashSet();

    public IReadOnlySet<NotificationKind> EmailedKinds =>
        EmailKinds.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => Enum.TryParse<NotificationKind>(s, out var k) ? k : (NotificationKind?)null)
            .OfType<NotificationKind>().ToHashSet();

    public bool Follows(Guid? botId) => botId is { } bot && (FollowAllBots || FollowedBotIds.Contains(bot));
}

internal sealed class NotificationSettingsConfiguration : IEntityTypeConfiguration<NotificationSettings>
{
    public void Configure(EntityTypeBuilder<NotificationSettings> settings)
    {
        settings.ToTable("NotificationSettings");
        settings.HasKey(s => s.UserId);
        settings.Property(s => s.UserId).HasMaxLength(450);
        settings.Property(s => s.FollowedBots).HasMaxLength(4000);
        settings.Property(s => s.EmailKinds).HasMaxLength(200);
        settings.HasOne<AppUser>().WithOne().HasForeignKey<NotificationSettings>(s => s.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
