using System.Globalization;
using System.Net;

namespace ConnectiveOne.Core.Dns;

/// <summary>Settings under <c>ConnectiveOne:Dns</c>.</summary>
public sealed class DnsOptions
{
    public const string SectionName = "ConnectiveOne:Dns";

    /// <summary>Comma-separated <c>host:port</c> list (IPv6 as <c>[::1]:53</c>; port defaults to 53). Empty: the system's resolvers.</summary>
    public string? Servers { get; set; }

    /// <summary>How long to wait for one answer before retrying.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Retries per server after a timeout.</summary>
    public int Retries { get; set; } = 2;

    /// <summary>When the background worker checks domains again (<c>ConnectiveOne:Dns:Recheck</c>).</summary>
    public RecheckOptions Recheck { get; set; } = new();

    /// <summary>Parses <see cref="Servers"/>. Host names are not accepted: the resolver list must not itself need DNS.</summary>
    /// <exception cref="FormatException">An entry is not an IP address with an optional port.</exception>
    public static IReadOnlyList<IPEndPoint> ParseServers(string? servers)
    {
        if (string.IsNullOrWhiteSpace(servers))
        {
            return [];
        }

        var endpoints = new List<IPEndPoint>();
        foreach (var entry in servers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // IPEndPoint.TryParse leaves the port 0 when none is given ("192.0.2.1", "::1").
            if (IPEndPoint.TryParse(entry, out var endpoint))
            {
                endpoints.Add(endpoint.Port == 0 ? new IPEndPoint(endpoint.Address, 53) : endpoint);
            }
            else
            {
                throw new FormatException(string.Create(
                    CultureInfo.InvariantCulture,
                    $"'{entry}' in {SectionName}:Servers is not an IP address with an optional port, like 192.0.2.53:53 or [2001:db8::53]:53."));
            }
        }

        return endpoints;
    }

    /// <summary>Whether <see cref="ParseServers"/> accepts <paramref name="servers"/> (for validation at start).</summary>
    public static bool TryParseServers(string? servers)
    {
        try
        {
            ParseServers(servers);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
