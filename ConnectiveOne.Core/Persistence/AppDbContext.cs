using ConnectiveOne.Core.Accounts;
using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Bots;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Inbound.Intake;
using ConnectiveOne.Core.Outbound;
using ConnectiveOne.Core.Tickets;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace ConnectiveOne.Core.Persistence;

public sealed class AppDbContext(DbContextOptions<AppDbContext> options) : IdentityDbContext<AppUser>(options), IDataProtectionKeyContext
{
    /// <summary>Data Protection's key ring when several nodes share one PostgreSQL (SQLite keeps its keys in the data folder).</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

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
    public DbSet<TicketParticipant> Participants => Set<TicketParticipant>();
    public DbSet<TicketRead> TicketReads => Set<TicketRead>();
    public DbSet<TicketEvent> TicketEvents => Set<TicketEvent>();
    public DbSet<OutboundMail> Outbox => Set<OutboundMail>();
    public DbSet<MailgunToken> MailgunTokens => Set<MailgunToken>();
    public DbSet<Inbound.Bounces.DeliveryReport> DeliveryReports => Set<Inbound.Bounces.DeliveryReport>();
    public DbSet<Notifications.Notification> Notifications => Set<Notifications.Notification>();
    public DbSet<Notifications.NotificationSettings> NotificationSettings => Set<Notifications.NotificationSettings>();
    public DbSet<SavedReplies.SavedReply> SavedReplies => Set<SavedReplies.SavedReply>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(AppDbContext).Assembly);
        if (Database.IsNpgsql())
            UnboundedText(builder);
    }

    // SQLite never enforces a length and the app was built on it (mail brings subjects, names and file names of any
    // length); PostgreSQL's varchar(n) would refuse what SQLite keeps. Text columns on PostgreSQL keep the behaviour
    // the same (text and varchar perform alike there); the lengths stay in the model as documentation.
    private static void UnboundedText(ModelBuilder builder)
    {
        foreach (var property in builder.Model.GetEntityTypes().SelectMany(e => e.GetProperties()))
            if ((property.GetValueConverter()?.ProviderClrType ?? property.GetProviderClrType() ?? property.ClrType) == typeof(string))
                property.SetColumnType("text");
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite cannot order or compare DateTimeOffset; store UTC ticks so queries sort in the database. PostgreSQL keeps
        // the same bigint columns: one model for both providers, and raw SQL that compares times reads the same on both.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToUtcTicksConverter>();
        configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<DateTimeOffsetToUtcTicksConverter>();
    }
}
