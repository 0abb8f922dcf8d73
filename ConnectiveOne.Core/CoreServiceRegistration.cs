using ConnectiveOne.Core.Accounts;
using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Bots;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Inbound;
using ConnectiveOne.Core.Nodes;
using ConnectiveOne.Core.Notifications;
using ConnectiveOne.Core.Outbound;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.SavedReplies;
using ConnectiveOne.Core.Tickets;
using MailKit.Security;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Core;

public static class CoreServiceRegistration
{
    /// <summary>
    /// Registers options, the database, accounts and the background services of Core. Hosted services
    /// start in registration order, so migrations run before anything that reads the database.
    /// </summary>
    public static IServiceCollection AddConnectiveOneCore(this IServiceCollection services)
    {
        // The whole ConnectiveOne section is bound once, here, and every rule on it is checked here at start.
        // Features read IOptions<ConnectiveOneOptions>; DNS keeps IOptions<DnsOptions>, a view of the same binding.
        services.AddOptions<ConnectiveOneOptions>()
            .BindConfiguration(ConnectiveOneOptions.Section)
            .ValidateDataAnnotations()
            .Validate(o => !string.IsNullOrWhiteSpace(o.DataDirectory), "ConnectiveOne:DataDirectory must not be empty.")
            .Validate(o => o.WorkLease > 2 * o.Outbound.Timeout,
                "ConnectiveOne:WorkLease must be more than twice ConnectiveOne:Outbound:Timeout, so a delivery ends within its lease.")
            .Validate(o => o.Tickets.MaxMessagesPerTicket >= 2, "ConnectiveOne:Tickets:MaxMessagesPerTicket must be at least 2.")
            .Validate(o => o.Tickets.SnoozeCheckInterval >= TimeSpan.FromMilliseconds(100) && o.Tickets.SnoozeCheckInterval <= TimeSpan.FromHours(1),
                "ConnectiveOne:Tickets:SnoozeCheckInterval must be between 00:00:00.1 and 01:00:00.")
            .Validate(o => o.Database.Provider != DatabaseProvider.Postgres || o.Database.HasConnectionString, DatabaseOptions.MissingConnectionString)
            .Validate(o => o.Database.Provider != DatabaseProvider.Sqlite || !o.Database.HasConnectionString, DatabaseOptions.StrayConnectionString)
            .Validate(o => Enum.TryParse<SecureSocketOptions>(o.Outbound.Security, ignoreCase: true, out _),
                "ConnectiveOne:Outbound:Security must be None, StartTls, SslOnConnect or Auto.")
            .Validate(o => RetrySchedule.TryParse(o.Outbound.RetryDelays, o.Outbound.GiveUpAfter, out _),
                "ConnectiveOne:Outbound:RetryDelays must be comma-separated durations such as 00:01:00,00:05:00, and GiveUpAfter positive.")
            .Validate(o => o.Outbound.Timeout > TimeSpan.Zero && o.Outbound.PollInterval > TimeSpan.Zero,
                "ConnectiveOne:Outbound:Timeout and PollInterval must be positive.")
            .Validate(o => DnsOptions.TryParseServers(o.Dns.Servers),
                "ConnectiveOne:Dns:Servers must be a comma-separated list of IP addresses with optional ports, like 192.0.2.53:53.")
            .Validate(o => o.Dns.Recheck.Parallelism > 0 && o.Dns.Recheck.BatchSize > 0 && o.Dns.Recheck.PollInterval > TimeSpan.Zero
                && o.Dns.Recheck.FastInterval > TimeSpan.Zero, "ConnectiveOne:Dns:Recheck intervals, Parallelism and BatchSize must be positive.")
            .ValidateOnStart();
        services.AddSingleton<IOptions<DnsOptions>>(sp => Options.Create(sp.GetRequiredService<IOptions<ConnectiveOneOptions>>().Value.Dns));
        services.AddSingleton(TimeProvider.System);

        services.AddDbContext<AppDbContext>((sp, db) =>
            db.UseConfiguredDatabase(sp.GetRequiredService<IOptions<ConnectiveOneOptions>>().Value));

        services.AddIdentityCore<AppUser>(identity =>
            {
                identity.User.RequireUniqueEmail = true;
                identity.Password.RequiredLength = 10;
                identity.Password.RequireNonAlphanumeric = false;
                identity.Password.RequireUppercase = false;
                identity.Password.RequireLowercase = false;
                identity.Password.RequireDigit = false;
                // Not Identity's per-account lockout (anyone could lock anyone out): SignInBackoff counts per
                // account and client address.
                identity.Lockout.AllowedForNewUsers = false;
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<AppDbContext>()
            .AddSignInManager()
            .AddDefaultTokenProviders();

        services.AddScoped<ApiTokenService>();
        services.AddScoped<UserDirectory>();
        services.AddScoped<SignInGuard>();
        services.AddScoped<CredentialChanges>();
        services.AddScoped<SessionCheck>();
        services.AddSingleton<SignInBackoff>();
        services.AddSingleton<FirstRunSetup>();
        services.AddSingleton<ChangeNotifier>();

        services.AddHostedService<DatabaseMigrator>();
        services.AddHostedService<SqliteCheckpointer>();
        services.AddHostedService<AccountBootstrapper>();
        services.AddAddresses();
        services.AddDns();
        services.AddInbound();
        services.AddTickets();
        services.AddOutbound();
        services.AddNotifications();
        services.AddSavedReplies();
        services.AddBots();
        services.AddNodes();
        return services;
    }
}
