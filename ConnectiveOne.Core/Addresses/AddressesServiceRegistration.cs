using ConnectiveOne.Core.Dns;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Core.Addresses;

public static class AddressesServiceRegistration
{
    /// <summary>Addresses, domains, the DNS verifier and the background re-check (steps 1–4 of the setup).</summary>
    public static IServiceCollection AddAddressesAndDomains(this IServiceCollection services)
    {
        services.AddOptions<DnsOptions>()
            .BindConfiguration(DnsOptions.SectionName)
            .Validate(o => TryParseServers(o.Servers), "ConnectiveOne:Dns:Servers must be a comma-separated list of IP addresses with optional ports, like 192.0.2.53:53.")
            .Validate(o => o.Recheck.Parallelism > 0 && o.Recheck.BatchSize > 0 && o.Recheck.PollInterval > TimeSpan.Zero
                && o.Recheck.FastInterval > TimeSpan.Zero, "ConnectiveOne:Dns:Recheck intervals, Parallelism and BatchSize must be positive.")
            .ValidateOnStart();
        services.AddSingleton<DnsVerifier>();
        services.AddScoped<MailDomains>();
        services.AddScoped<AddressDirectory>();
        services.AddHostedService<DomainRecheckWorker>();
        return services;
    }

    private static bool TryParseServers(string? servers)
    {
        try
        {
            DnsOptions.ParseServers(servers);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
