using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectiveOne.Core.Inbound.Intake;

/// <summary>
/// A Mailgun webhook token already used, kept in the database so a replay is refused on every node; kept until
/// its signature's timestamp is too old to be accepted anyway.
/// </summary>
public sealed class MailgunToken
{
    public required string Token { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
}

internal sealed class MailgunTokenConfiguration : IEntityTypeConfiguration<MailgunToken>
{
    public void Configure(EntityTypeBuilder<MailgunToken> token)
    {
        token.ToTable("MailgunTokens");
        token.HasKey(t => t.Token);
        token.Property(t => t.Token).HasMaxLength(200);
        token.HasIndex(t => t.ExpiresAt);
    }
}
