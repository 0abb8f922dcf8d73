using System.Net;
using ConnectiveOne.Core;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Console;

/// <summary><c>ConnectiveOne:ForwardedHeaders</c>: which reverse proxies may tell the app the client's address and scheme.</summary>
internal sealed class ForwardedHeadersSettings
{
    public const string Section = ConnectiveOneOptions.Section + ":ForwardedHeaders";

    /// <summary>
    /// Comma-separated addresses (<c>10.0.0.5</c>) or networks (<c>10.0.0.0/8</c>) of the proxies in front of the app.
    /// Empty: only a proxy on this machine (loopback) is believed.
    /// </summary>
    public string? KnownProxies { get; set; }

    /// <summary>The parsed list, or null when an entry is neither an address nor a network.</summary>
    public (List<IPAddress> Proxies, List<System.Net.IPNetwork> Networks)? Parse()
    {
        var proxies = new List<IPAddress>();
        var networks = new List<System.Net.IPNetwork>();
        foreach (var entry in (KnownProxies ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (entry.Contains('/') && System.Net.IPNetwork.TryParse(entry, out var network))
                networks.Add(network);
            else if (IPAddress.TryParse(entry, out var address))
                proxies.Add(address);
            else
                return null;
        }
        return (proxies, networks);
    }
}

/// <summary>
/// Behind a TLS-terminating proxy the app sees plain HTTP from the proxy's address. X-Forwarded-Proto and
/// X-Forwarded-For from a known proxy restore the real scheme (so the sign-in cookie is Secure and HSTS is sent) and the
/// client's address (so sign-in throttling counts per client, not per proxy). From anyone else they are ignored.
/// </summary>
internal static class ReverseProxy
{
    public static IServiceCollection AddReverseProxySupport(this IServiceCollection services)
    {
        services.AddOptions<ForwardedHeadersSettings>().BindConfiguration(ForwardedHeadersSettings.Section)
            .Validate(s => s.Parse() is not null,
                $"{ForwardedHeadersSettings.Section}:KnownProxies must be a comma-separated list of IP addresses or networks (10.0.0.0/8).")
            .ValidateOnStart();
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ForwardedHeadersSettings>>((forwarded, settings) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            if (settings.Value.Parse() is not { } parsed || parsed.Proxies.Count + parsed.Networks.Count == 0)
                return; // the framework's default: loopback only
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var proxy in parsed.Proxies)
                forwarded.KnownProxies.Add(proxy);
            foreach (var network in parsed.Networks)
                forwarded.KnownIPNetworks.Add(network);
        });
        services.AddHsts(hsts => hsts.MaxAge = TimeSpan.FromDays(365));
        return services;
    }
}
