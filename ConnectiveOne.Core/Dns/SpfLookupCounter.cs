using System.Collections.Immutable;

namespace ConnectiveOne.Core.Dns;

/// <summary>The DNS-lookup cost of an SPF record (RFC 7208 §4.6.4).</summary>
/// <remarks>
/// <para><c>Lookups</c>: Terms that cost a lookup, counted through includes and redirects.</para>
/// <para><c>LoopDetected</c>: An include or redirect leads back to a record already being counted.</para>
/// <para><c>Incomplete</c>: Some include could not be followed (no answer, no SPF record, too deep): the real count may be higher.</para>
/// <para><c>Problems</c>: What went wrong, in words, one line each.</para>
/// </remarks>
public sealed record SpfLookupCount(int Lookups, bool LoopDetected, bool Incomplete, IReadOnlyList<string> Problems)
{
    public const int Limit = 10;

    public bool OverLimit => Lookups > Limit;
}

/// <summary>
/// Counts the mechanisms and modifiers that cost a DNS lookup (<c>include</c>, <c>a</c>, <c>mx</c>, <c>ptr</c>,
/// <c>exists</c>, <c>redirect</c>), recursing into includes and redirects concurrently.
/// </summary>
public static class SpfLookupCounter
{
    /// <summary>Deeper than this, receivers would already have given up.</summary>
    public const int DefaultMaxDepth = 10;

    /// <summary>Upper bound on TXT lookups for one count, so a hostile include tree stays cheap.</summary>
    public const int DefaultMaxQueries = 40;

    /// <summary>Counts the lookups of <paramref name="spfRecord"/> as published at <paramref name="domain"/>.</summary>
    /// <remarks>
    /// <para><c>lookupTxtAsync</c>: Looks up the TXT records of a name; called once per include or redirect target.</para>
    /// </remarks>
    public static async Task<SpfLookupCount> CountAsync(
        string spfRecord,
        string domain,
        Func<string, CancellationToken, Task<TxtLookupResult>> lookupTxtAsync,
        CancellationToken cancellationToken,
        int maxDepth = DefaultMaxDepth,
        int maxQueries = DefaultMaxQueries)
    {
        var walk = new Walk(lookupTxtAsync, maxDepth, maxQueries, cancellationToken);
        var path = ImmutableHashSet.Create(StringComparer.OrdinalIgnoreCase, Normalize(domain));
        var count = await walk.CountRecordAsync(spfRecord, path, 0);
        var problems = walk.Problems.Distinct().ToArray();
        return new SpfLookupCount(count, walk.LoopDetected, walk.Incomplete, problems);
    }

    private static string Normalize(string name) => name.Trim().TrimEnd('.').ToLowerInvariant();

    private sealed class Walk(
        Func<string, CancellationToken, Task<TxtLookupResult>> lookupTxtAsync,
        int maxDepth,
        int maxQueries,
        CancellationToken cancellationToken)
    {
        private readonly Lock _lock = new();
        private readonly List<string> _problems = [];
        private int _queries;

        public bool LoopDetected { get; private set; }

        public bool Incomplete { get; private set; }

        public IReadOnlyList<string> Problems
        {
            get
            {
                lock (_lock)
                {
                    return _problems.ToArray();
                }
            }
        }

        public async Task<int> CountRecordAsync(string record, ImmutableHashSet<string> path, int depth)
        {
            var terms = SpfPlanner.Terms(record).ToArray();
            var hasAll = terms.Any(SpfPlanner.IsAll);
            var count = 0;
            var targets = new List<string>();
            foreach (var term in terms)
            {
                var bare = SpfPlanner.StripQualifier(term);
                var name = MechanismName(bare);
                switch (name)
                {
                    case "include":
                        count++;
                        targets.Add(bare[(name.Length + 1)..]);
                        break;
                    case "a" or "mx" or "ptr" or "exists":
                        count++;
                        break;
                    case "redirect" when !hasAll:
                        // With an "all" mechanism present the redirect is never used (RFC 7208 §6.1).
                        count++;
                        targets.Add(bare[(name.Length + 1)..]);
                        break;
                }
            }

            var nested = await Task.WhenAll(targets.Select(t => FollowAsync(t, path, depth + 1)));
            return count + nested.Sum();
        }

        private async Task<int> FollowAsync(string target, ImmutableHashSet<string> path, int depth)
        {
            var name = Normalize(target);
            if (name.Length == 0)
            {
                return 0;
            }

            if (name.Contains('%'))
            {
                Report($"{name} uses an SPF macro; its lookups are not counted.", incomplete: true);
                return 0;
            }

            if (path.Contains(name))
            {
                lock (_lock)
                {
                    LoopDetected = true;
                }

                Report($"{name} includes itself through a loop; receivers treat this SPF record as an error.", incomplete: false);
                return 0;
            }

            if (depth > maxDepth || Interlocked.Increment(ref _queries) > maxQueries)
            {
                Report($"The includes below {name} are nested too deeply to count.", incomplete: true);
                return 0;
            }

            var result = await lookupTxtAsync(name, cancellationToken);
            if (result.Status == TxtLookupStatus.NoAnswer)
            {
                Report($"The DNS server did not answer for {name}; its lookups are not counted.", incomplete: true);
                return 0;
            }

            var spf = result.Records.Select(TxtStrings.Normalize).Where(SpfPlanner.IsSpfRecord).ToArray();
            if (spf.Length != 1)
            {
                Report(
                    spf.Length == 0
                        ? $"{name} has no SPF record; receivers treat the include as an error."
                        : $"{name} has {spf.Length} SPF records; receivers treat that as an error.",
                    incomplete: true);
                return 0;
            }

            return await CountRecordAsync(spf[0], path.Add(name), depth);
        }

        private void Report(string problem, bool incomplete)
        {
            lock (_lock)
            {
                _problems.Add(problem);
                Incomplete |= incomplete;
            }
        }

        private static string MechanismName(string term)
        {
            var end = term.IndexOfAny([':', '/', '=']);
            return (end < 0 ? term : term[..end]).ToLowerInvariant();
        }
    }
}
