using System.Diagnostics;
using System.Globalization;
using ConnectiveOne.Core;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Tests.Dns;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Benchmarks;

/// <summary>
/// Against a DNS server on loopback: (1) what one domain's verification costs compared with one DNS round trip;
/// (2) how long the re-check worker takes for many pending domains stored in SQLite.
/// </summary>
internal static class DnsBenchmark
{
    private const string Domain = "acme.bench";

    public static async Task RunAsync(int pendingDomains)
    {
        await using var dns = FakeDnsServer.Start();
        dns.SetTxt("mailgun.org", "v=spf1 include:_spf.mailgun.org ~all");
        dns.SetTxt("_spf.mailgun.org", "v=spf1 ip4:192.0.2.0/24 ~all");
        Console.WriteLine($"DNS server: ARSoft on 127.0.0.1:{dns.Port}; {Environment.ProcessorCount} cores; .NET {Environment.Version}");

        await OneDomainAsync(dns, TimeSpan.Zero);
        // Loopback answers in microseconds, so CPU hides the parallelism; with a typical resolver latency it shows.
        dns.ResponseDelay = TimeSpan.FromMilliseconds(20);
        await OneDomainAsync(dns, dns.ResponseDelay);
        dns.ResponseDelay = TimeSpan.Zero;
        await WorkerAsync(dns, pendingDomains);
    }

    private static async Task OneDomainAsync(FakeDnsServer dns, TimeSpan latency)
    {
        var verifier = new DnsVerifier(Options.Create(new DnsOptions { Servers = dns.ServersSetting }), TimeProvider.System);
        var k1 = DkimKeyPair.Generate("k1");
        var k2 = DkimKeyPair.Generate("k2");
        var settings = new DomainDnsSettings(Domain, "benchtoken", [k1.ToSelectorKey(true), k2.ToSelectorKey(false)]);
        dns.SetTxt(Domain, ["connectiveone-verification=benchtoken"], ["v=spf1 include:mailgun.org -all"]);
        dns.SetTxt($"k1._domainkey.{Domain}", [.. TxtStrings.Split(k1.TxtValue)]);
        dns.SetTxt($"k2._domainkey.{Domain}", [.. TxtStrings.Split(k2.TxtValue)]);
        dns.SetTxt($"_dmarc.{Domain}", "v=DMARC1; p=none;");

        for (var i = 0; i < (latency > TimeSpan.Zero ? 2 : 20); i++) // warm-up: JIT, sockets
        {
            await verifier.CheckAsync(settings, CancellationToken.None);
            await verifier.LookupTxtAsync(Domain, CancellationToken.None);
        }

        var rounds = latency > TimeSpan.Zero ? 30 : 200;
        var single = new double[rounds];
        var check = new double[rounds];
        var queriesBefore = dns.QueryCount;
        for (var i = 0; i < rounds; i++)
        {
            var sw = Stopwatch.StartNew();
            await verifier.LookupTxtAsync(Domain, CancellationToken.None);
            single[i] = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            var result = await verifier.CheckAsync(settings, CancellationToken.None);
            check[i] = sw.Elapsed.TotalMilliseconds;
            if (result.Status != DomainStatus.Verified)
                throw new InvalidOperationException($"Expected Verified, got {result.Status}");
        }

        var queriesPerCheck = (dns.QueryCount - queriesBefore - rounds) / (double)rounds;
        Console.WriteLine();
        Console.WriteLine($"One domain ({queriesPerCheck:0} lookups per check), {rounds} rounds, added server latency {latency.TotalMilliseconds:0} ms:");
        var (one, whole) = (Stats.Of(single), Stats.Of(check));
        Console.WriteLine($"  one TXT lookup:            median {one.P50:0.00} ms, p95 {one.P95:0.00} ms");
        Console.WriteLine($"  whole domain verification: median {whole.P50:0.00} ms, p95 {whole.P95:0.00} ms");
        Console.WriteLine($"  ratio:                     {whole.P50 / one.P50:0.0} round trips");
    }

    private static async Task WorkerAsync(FakeDnsServer dns, int count)
    {
        var data = Path.Combine(Path.GetTempPath(), "c1-bench-" + Guid.NewGuid().ToString("N"));
        // Not started: the worker runs once, by hand.
        using var host = BenchHost.Build(data, new Dictionary<string, string?> { ["ConnectiveOne:Dns:Servers"] = dns.ServersSetting });
        try
        {
            var key = DkimKeyPair.Generate("k1").PublicKeyBase64;
            await using (var scope = host.Services.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
                await db.Database.MigrateAsync();
                var due = DateTimeOffset.UtcNow.AddMinutes(-1);
                for (var start = 0; start < count; start += 1000)
                {
                    for (var i = start; i < Math.Min(count, start + 1000); i++)
                    {
                        var name = $"d{i.ToString(CultureInfo.InvariantCulture)}.bench";
                        db.Domains.Add(new MailDomain
                        {
                            Name = name,
                            VerificationToken = "t" + i.ToString(CultureInfo.InvariantCulture),
                            NextCheckAt = due,
                            StatusChangedAt = due,
                            DkimKeys =
                            [
                                new DkimKey { DomainName = name, Selector = "k1", PublicKey = key, ProtectedPrivateKey = "-", Active = true },
                                new DkimKey { DomainName = name, Selector = "k2", PublicKey = key, ProtectedPrivateKey = "-" },
                            ],
                        });
                    }

                    await db.SaveChangesAsync();
                    db.ChangeTracker.Clear();
                }
            }

            var worker = host.Services.GetServices<IHostedService>().OfType<DomainRecheckWorker>().Single();
            var options = host.Services.GetRequiredService<IOptions<ConnectiveOneOptions>>().Value.Dns.Recheck;
            var queries = dns.QueryCount;
            var sw = Stopwatch.StartNew();
            var checkedCount = await worker.CheckDueAsync(CancellationToken.None);
            sw.Stop();

            Console.WriteLine();
            Console.WriteLine($"Re-check worker, {count} pending domains in SQLite (batch {options.BatchSize}, parallelism {options.Parallelism}):");
            Console.WriteLine($"  checked {checkedCount} domains in {sw.Elapsed.TotalSeconds:0.0} s ({checkedCount / sw.Elapsed.TotalSeconds:0} domains/s, {dns.QueryCount - queries} DNS queries)");
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }
}
