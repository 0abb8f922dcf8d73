using System.Net;

namespace ConnectiveOne.Core.Inbound.Smtp;

/// <summary>
/// Counts open SMTP sessions in all and per client address, so one address cannot take every slot
/// (Postfix's anvil does the same with <c>smtpd_client_connection_count_limit</c>).
/// </summary>
internal sealed class SessionLimits(int maxSessions, int maxPerAddress)
{
    private readonly Dictionary<IPAddress, int> _perAddress = [];
    private int _total;

    /// <summary>Null when a session may start (and is counted); otherwise the 421 reply to send before closing.</summary>
    public string? TryEnter(IPAddress address)
    {
        address = Normalize(address);
        lock (_perAddress)
        {
            if (_total >= maxSessions)
                return "421 4.3.2 Too busy right now; try again later";
            var open = _perAddress.GetValueOrDefault(address);
            if (open >= maxPerAddress)
                return "421 4.7.0 Too many connections from your address; try again later";
            _perAddress[address] = open + 1;
            _total++;
            return null;
        }
    }

    public void Exit(IPAddress address)
    {
        address = Normalize(address);
        lock (_perAddress)
        {
            _total--;
            if (_perAddress.TryGetValue(address, out var open) && open > 1)
                _perAddress[address] = open - 1;
            else
                _perAddress.Remove(address);
        }
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
