using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Core.Addresses;

public static class AddressesServiceRegistration
{
    /// <summary>Corporate and technical addresses (steps 1–2 of the setup); their domains are <c>AddDns</c>'s.</summary>
    public static IServiceCollection AddAddresses(this IServiceCollection services)
    {
        services.AddScoped<AddressDirectory>();
        return services;
    }
}
