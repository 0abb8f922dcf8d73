using ConnectiveOne.Core;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ConnectiveOne.Benchmarks;

/// <summary>
/// Core's services on a data folder, as the app registers them, without starting the hosted services
/// (a benchmark calls what it measures by hand).
/// </summary>
internal static class BenchHost
{
    public static IHost Build(string dataDirectory, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var config = new Dictionary<string, string?> { ["ConnectiveOne:DataDirectory"] = dataDirectory };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            config[key] = value;
        builder.Configuration.AddInMemoryCollection(config);
        builder.Services.AddConnectiveOneCore();
        builder.Services.AddDataProtection();
        return builder.Build();
    }
}
