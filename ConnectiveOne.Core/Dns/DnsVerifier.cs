using System.Collections.Concurrent;
using DnsClient;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Core.Dns;

/// <summary>
/// Looks up a domain's records with DnsClient and checks them against the plan. Thread-safe; register as a singleton.
/// Caching is off, so a fix in DNS shows on the next check (resolvers upstream may still cache for the TTL).
/// </summary>
public sealed class DnsVerifier
{
    /// <summary>CNAME chains longer than this are treated as broken.</summary>
    public const int MaxCnameHops = 8;

    /// <summary>How long the SPF records of other domains (the relay's include tree) are reused.</summary>
    public static readonly TimeSpan ThirdPartyTtl = TimeSpan.FromMinutes(10);

    private readonly LookupClient _client;
    private readonly TimeProvider _timeProvider;
    private readonly ConcurrentDictionary<string, (TxtLookupResult Result, DateTimeOffset Until)> _thirdParty =
        new(StringComparer.OrdinalIgnoreCase);

    public DnsVerifier(IOptions<DnsOptions> options, TimeProvider timeProvider)
    {
        var settings = options.Value;
        var servers = DnsOptions.ParseServers(settings.Servers);
        var clientOptions = servers.Count == 0
            ? new LookupClientOptions()
            : new LookupClientOptions(servers.Select(s => new NameServer(s)).ToArray());
        clientOptions.UseCache = false;
        clientOptions.Timeout = settings.Timeout;
        clientOptions.Retries = settings.Retries;
        clientOptions.UseTcpFallback = true;
        clientOptions.Recursion = true;
        // Errors come back as responses so NXDOMAIN (not found) and SERVFAIL (no answer) can be told apart.
        clientOptions.ThrowDnsErrors = false;
        clientOptions.ContinueOnDnsError = true;
        _client = new LookupClient(clientOptions);
        _timeProvider = timeProvider;
    }

    /// <summary>
    /// Looks up everything for one domain at once (apex, every DKIM selector, <c>_dmarc</c>, and the SPF include tree)
    /// and returns the planned records with what was found, the domain status and when it was checked.
    /// </summary>
    public async Task<DomainCheckResult> CheckAsync(DomainDnsSettings settings, CancellationToken cancellationToken)
    {
        // Per-check memo: the same name (the apex, a shared include) is asked once per check. The customer's own names
        // are never reused across checks, so a fix shows on the next one; other domains' SPF records (the relay's
        // include tree, identical for every customer) are reused for a few minutes, which keeps a check to one round trip.
        var domain = settings.Domain;
        var memo = new ConcurrentDictionary<string, Lazy<Task<TxtLookupResult>>>(StringComparer.OrdinalIgnoreCase);
        Task<TxtLookupResult> LookupAsync(string name, CancellationToken ct) =>
            memo.GetOrAdd(name.TrimEnd('.'), n => new Lazy<Task<TxtLookupResult>>(() =>
                IsOwnName(n, domain) ? LookupTxtAsync(n, ct) : LookupThirdPartyAsync(n, ct))).Value;

        var apexTask = LookupAsync(domain, cancellationToken);
        var dmarcTask = LookupAsync(DnsRecordPlanner.DmarcHost(domain), cancellationToken);
        var dkimTasks = settings.DkimKeys.ToDictionary(
            k => k.Selector,
            k => LookupAsync(DkimRecord.Host(k.Selector, domain), cancellationToken));
        // The value to publish always includes the relay, so its SPF is asked for now, beside the apex, not after it.
        var includeTask = LookupAsync(settings.SpfInclude, cancellationToken);
        var spfCountTask = CountSpfLookupsAsync(settings, apexTask, LookupAsync, cancellationToken);

        await Task.WhenAll([apexTask, dmarcTask, includeTask, spfCountTask, .. dkimTasks.Values]);

        var dkim = new Dictionary<string, TxtLookupResult>(StringComparer.OrdinalIgnoreCase);
        foreach (var (selector, task) in dkimTasks)
        {
            dkim[selector] = await task;
        }

        var snapshot = new DomainDnsSnapshot(await apexTask, await dmarcTask, dkim, await spfCountTask);
        return DnsRecordMatcher.Check(settings, snapshot, _timeProvider.GetUtcNow());
    }

    /// <summary>
    /// The TXT records at <paramref name="name"/>, following CNAMEs. NXDOMAIN and "no TXT" give
    /// <see cref="TxtLookupStatus.NotFound"/>; a timeout, SERVFAIL, refusal, CNAME loop or over-long chain gives
    /// <see cref="TxtLookupStatus.NoAnswer"/>.
    /// </summary>
    public async Task<TxtLookupResult> LookupTxtAsync(string name, CancellationToken cancellationToken)
    {
        var current = name.TrimEnd('.');
        var visited = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { current };
        for (var hop = 0; hop <= MaxCnameHops; hop++)
        {
            IDnsQueryResponse response;
            try
            {
                response = await _client.QueryAsync(current, QueryType.TXT, QueryClass.IN, cancellationToken);
            }
            catch (DnsResponseException)
            {
                // Timeouts and transport errors: DnsClient throws these even with ThrowDnsErrors off.
                return TxtLookupResult.NoAnswer;
            }

            if (response.HasError)
            {
                return response.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain
                    ? TxtLookupResult.NotFound
                    : TxtLookupResult.NoAnswer;
            }

            // A recursive resolver answers a TXT query on a CNAME with the chain and the target's TXT records.
            var txt = response.Answers.TxtRecords().ToArray();
            if (txt.Length > 0)
            {
                return new TxtLookupResult(
                    TxtLookupStatus.Found,
                    txt.Select(t => new TxtRecordData(t.Text.ToArray())).ToArray());
            }

            // The server did not chase the CNAME: follow the chain it gave, then ask for its end.
            var cnames = response.Answers.CnameRecords()
                .GroupBy(c => c.DomainName.Value.TrimEnd('.'), StringComparer.OrdinalIgnoreCase)
                .ToDictionary(g => g.Key, g => g.First().CanonicalName.Value.TrimEnd('.'), StringComparer.OrdinalIgnoreCase);
            if (!cnames.ContainsKey(current))
            {
                return TxtLookupResult.NotFound;
            }

            while (cnames.TryGetValue(current, out var target))
            {
                if (!visited.Add(target) || visited.Count > MaxCnameHops + 1)
                {
                    // A CNAME loop or an absurd chain: a recursive resolver answers SERVFAIL for it, so it is no answer,
                    // not proof that a verified record was removed.
                    return TxtLookupResult.NoAnswer;
                }

                current = target;
            }
        }

        return TxtLookupResult.NoAnswer; // still CNAMEs after MaxCnameHops queries
    }

    private static bool IsOwnName(string name, string domain) =>
        name.Equals(domain, StringComparison.OrdinalIgnoreCase) || name.EndsWith("." + domain, StringComparison.OrdinalIgnoreCase);

    private async Task<TxtLookupResult> LookupThirdPartyAsync(string name, CancellationToken cancellationToken)
    {
        var now = _timeProvider.GetUtcNow();
        if (_thirdParty.TryGetValue(name, out var cached) && cached.Until > now)
            return cached.Result;
        var result = await LookupTxtAsync(name, cancellationToken);
        // A server that did not answer is asked again next time.
        if (result.Status != TxtLookupStatus.NoAnswer)
            _thirdParty[name] = (result, now + ThirdPartyTtl);
        return result;
    }

    private static async Task<SpfLookupCount?> CountSpfLookupsAsync(
        DomainDnsSettings settings,
        Task<TxtLookupResult> apexTask,
        Func<string, CancellationToken, Task<TxtLookupResult>> lookupAsync,
        CancellationToken cancellationToken)
    {
        var apex = await apexTask;
        if (apex.Status == TxtLookupStatus.NoAnswer)
        {
            return null;
        }

        // Count the value the user is asked to publish, so the warning comes before the change, not after.
        var plan = DnsRecordPlanner.PlanSpf(settings, apex);
        return await SpfLookupCounter.CountAsync(plan.Value, settings.Domain, lookupAsync, cancellationToken);
    }
}
