using ConnectiveOne.Core.Accounts;
using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Bots;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Inbound.Intake;
using ConnectiveOne.Core.Outbound;
using ConnectiveOne.Core.Tickets;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace ConnectiveOne.Core.Persistence;

public sealed class AppDbContext(DbContextOptions<AppDbContext> options) : IdentityDbContext<AppUser>(options)
{
    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();
    public DbSet<CorporateAddress> Addresses => Set<CorporateAddress>();
    public DbSet<MailDomain> Domains => Set<MailDomain>();
    public DbSet<DkimKey> DkimKeys => Set<DkimKey>();
    public DbSet<Bot> Bots => Set<Bot>();
    public DbSet<Ticket> Tickets => Set<Ticket>();
    public DbSet<TicketMessage> Messages => Set<TicketMessage>();
    public DbSet<RawMessage> RawMessages => Set<RawMessage>();
    public DbSet<MessageAttachment> Attachments => Set<MessageAttachment>();
    public DbSet<AttachmentContent> AttachmentContents => Set<AttachmentContent>();
    public DbSet<TicketRead> TicketReads => Set<TicketRead>();
    public DbSet<OutboundMail> Outbox => Set<OutboundMail>();
    public DbSet<MailgunToken> MailgunTokens => Set<MailgunToken>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(AppDbContext).Assembly);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite cannot order or compare DateTimeOffset; store UTC ticks so queries sort in the database.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToUtcTicksConverter>();
        configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<DateTimeOffsetToUtcTicksConverter>();
    }
}
