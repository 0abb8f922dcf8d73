using ConnectiveOne.Core;
using ConnectiveOne.Core.Dns;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Tests;

/// <summary>The ConnectiveOne section is bound once and every rule on it is checked in one place, at start.</summary>
[Trait("Database", "Unused")] // builds the services and reads the options; starts nothing
public sealed class ConnectiveOneOptionsTests
{
    [Theory]
    [InlineData("ConnectiveOne:Outbound:Security", "Tls", "ConnectiveOne:Outbound:Security must be None, StartTls, SslOnConnect or Auto.")]
    [InlineData("ConnectiveOne:Outbound:RetryDelays", "soon", "ConnectiveOne:Outbound:RetryDelays must be comma-separated durations")]
    [InlineData("ConnectiveOne:Dns:Servers", "dns.example:53", "ConnectiveOne:Dns:Servers must be a comma-separated list of IP addresses")]
    [InlineData("ConnectiveOne:Dns:Recheck:Parallelism", "0", "ConnectiveOne:Dns:Recheck intervals, Parallelism and BatchSize must be positive.")]
    public void A_setting_that_cannot_work_stops_the_start_and_names_the_key(string key, string value, string says)
    {
        using var services = Build(new() { [key] = value });
        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<ConnectiveOneOptions>>().Value);
        Assert.Contains(says, error.Message);
    }

    [Fact]
    public void Dns_settings_are_the_same_binding_seen_through_IOptions_of_DnsOptions()
    {
        using var services = Build(new() { ["ConnectiveOne:Dns:Servers"] = "192.0.2.53:5353", ["ConnectiveOne:Dns:Retries"] = "7" });
        var dns = services.GetRequiredService<IOptions<DnsOptions>>().Value;
        Assert.Same(services.GetRequiredService<IOptions<ConnectiveOneOptions>>().Value.Dns, dns);
        Assert.Equal("192.0.2.53:5353", dns.Servers);
        Assert.Equal(7, dns.Retries);
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging();
        services.AddConnectiveOneCore();
        return services.BuildServiceProvider();
    }
}
