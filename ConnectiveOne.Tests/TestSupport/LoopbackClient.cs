using System.Net;
using System.Net.Sockets;

namespace ConnectiveOne.Tests.TestSupport;

/// <summary>
/// An HttpClient whose connections leave from a chosen loopback address (127.0.0.x are all this machine), so the
/// app sees several client addresses. Redirects are not followed; cookies are kept per client (in <c>cookies</c> when given, e.g. to share with a hub connection).
/// </summary>
public static class LoopbackClient
{
    public static HttpClient From(string serverAddress, string localAddress, CookieContainer? cookies = null)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            CookieContainer = cookies ?? new CookieContainer(),
            ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(IPAddress.Parse(localAddress), 0));
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Parse(context.DnsEndPoint.Host), context.DnsEndPoint.Port), ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        return new HttpClient(handler) { BaseAddress = new Uri(serverAddress) };
    }
}
