using System.Net;
using DnsClient;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;

namespace ConnectiveOne.Tests.TestSupport;

/// <summary>Finds DKIM public keys with DnsClient at one DNS server (the test's <c>FakeDnsServer</c>), no cache.</summary>
public sealed class DnsDkimKeyLocator(int dnsPort) : DkimPublicKeyLocatorBase
{
    private readonly LookupClient _dns = new(new LookupClientOptions(new NameServer(IPAddress.Loopback, dnsPort))
    {
        UseCache = false,
        Retries = 1,
        Timeout = TimeSpan.FromSeconds(5),
    });

    public override AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector,
        CancellationToken cancellationToken = default) =>
        KeyFrom(_dns.Query(Name(domain, selector), QueryType.TXT), domain, selector);

    public override async Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector,
        CancellationToken cancellationToken = default) =>
        KeyFrom(await _dns.QueryAsync(Name(domain, selector), QueryType.TXT, cancellationToken: cancellationToken), domain, selector);

    private static string Name(string domain, string selector) => $"{selector}._domainkey.{domain}";

    private static AsymmetricKeyParameter KeyFrom(IDnsQueryResponse response, string domain, string selector) =>
        GetPublicKey(response.Answers.TxtRecords().Select(r => string.Concat(r.Text)).FirstOrDefault()
                     ?? throw new InvalidOperationException($"No DKIM key at {Name(domain, selector)}."));
}
