using ConnectiveOne.Core.Dns;

namespace ConnectiveOne.Tests.Dns;

[Trait("Database", "Unused")] // touches no database: runs in the SQLite pass only
public class DnsOptionsTests
{
    [Theory]
    [InlineData("", 0)]
    [InlineData(" 127.0.0.1:5353 , [::1]:53,192.0.2.1", 3)]
    public void Server_list_parsing(string setting, int count)
    {
        var servers = DnsOptions.ParseServers(setting);

        Assert.Equal(count, servers.Count);
        if (count == 3)
        {
            Assert.Equal(5353, servers[0].Port);
            Assert.Equal("[::1]:53", servers[1].ToString());
            Assert.Equal(53, servers[2].Port);
        }
    }

    [Fact]
    public void Server_list_rejects_host_names_with_a_clear_message()
    {
        var error = Assert.Throws<FormatException>(() => DnsOptions.ParseServers("dns.example:53"));

        Assert.Contains("ConnectiveOne:Dns:Servers", error.Message, StringComparison.Ordinal);
    }
}
