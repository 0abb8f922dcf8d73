using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Core.Dns;

public static class DnsServiceRegistration
{
    /// <summary>Domains, the DNS verifier and the background re-check (steps 3–4 of the setup).</summary>
    public static IServiceCollection AddDns(this IServiceCollection services)
    {
        services.AddSingleton<DnsVerifier>();
        services.AddScoped<MailDomains>();
        services.AddHostedService<DomainRecheckWorker>();
        return services;
    }
}
