using System.Net;

namespace ConnectiveOne.Core.Inbound.Smtp;

/// <summary>
/// Counts open SMTP sessions in all, per client address and per client network (/24 for IPv4, /64 for IPv6), so
/// neither one address nor a few neighbouring ones can take every slot (Postfix's anvil does the same with
/// <c>smtpd_client_connection_count_limit</c>). A network's cap below the total keeps slots for everyone else.
/// </summary>
internal sealed class SessionLimits(int maxSessions, int maxPerAddress, int maxPerNetwork)
{
    private readonly Dictionary<IPAddress, int> _perAddress = [];
    private readonly Dictionary<IPAddress, int> _perNetwork = [];
    private int _total;

    /// <summary>Null when a session may start (and is counted); otherwise the 421 reply to send before closing.</summary>
    public string? TryEnter(IPAddress address)
    {
        address = Normalize(address);
        var network = Network(address);
        lock (_perAddress)
        {
            if (_total >= maxSessions)
                return "421 4.3.2 Too busy right now; try again later";
            var open = _perAddress.GetValueOrDefault(address);
            if (open >= maxPerAddress)
                return "421 4.7.0 Too many connections from your address; try again later";
            var openInNetwork = _perNetwork.GetValueOrDefault(network);
            if (openInNetwork >= maxPerNetwork)
                return "421 4.7.0 Too many connections from your network; try again later";
            _perAddress[address] = open + 1;
            _perNetwork[network] = openInNetwork + 1;
            _total++;
            return null;
        }
    }

    public void Exit(IPAddress address)
    {
        address = Normalize(address);
        var network = Network(address);
        lock (_perAddress)
        {
            _total--;
            Decrement(_perAddress, address);
            Decrement(_perNetwork, network);
        }
    }

    private static void Decrement(Dictionary<IPAddress, int> counts, IPAddress key)
    {
        if (counts.TryGetValue(key, out var open) && open > 1)
            counts[key] = open - 1;
        else
            counts.Remove(key);
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static IPAddress Network(IPAddress address) => ClientNetwork.Of(address);
}

/// <summary>Which network a client address counts in for the SMTP session limits.</summary>
public static class ClientNetwork
{
    /// <summary>
    /// The /24 of an IPv4 address (also written IPv4-mapped) or the /64 of an IPv6 one: what one customer, host or
    /// provider usually holds, and so what one sender can cheaply spread its connections over.
    /// </summary>
    public static IPAddress Of(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        var bytes = address.GetAddressBytes();
        var keep = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 3 : 8;
        Array.Clear(bytes, keep, bytes.Length - keep);
        return new IPAddress(bytes);
    }
}
