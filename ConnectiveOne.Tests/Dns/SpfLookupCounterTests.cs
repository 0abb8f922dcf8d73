using ConnectiveOne.Core.Dns;

namespace ConnectiveOne.Tests.Dns;

[Trait("Database", "Unused")] // touches no database: runs in the SQLite pass only
public class SpfLookupCounterTests
{
    // Zone data copied from /work/shared/corpus/spf/pyspf/rfc7208-tests.yml, section "Processing limits"
    // (cases redirect-loop e1, include-loop e2/e3, mech-at-limit e6, mech-over-limit e7,
    // include-at-limit e8, include-over-limit e9 with inc). Their "SPF:" and "TXT:" records are both TXT here.
    private static readonly Dictionary<string, string> Rfc7208Limits = new(StringComparer.OrdinalIgnoreCase)
    {
        ["e1.example.com"] = "v=spf1 ip4:1.1.1.1 redirect=e1.example.com",
        ["e2.example.com"] = "v=spf1 include:e3.example.com",
        ["e3.example.com"] = "v=spf1 include:e2.example.com",
        ["e6.example.com"] = "v=spf1 a mx a mx a mx a mx a ptr ip4:1.2.3.4 -all",
        ["e7.example.com"] = "v=spf1 a mx a mx a mx a mx a ptr a ip4:1.2.3.4 -all",
        ["e8.example.com"] = "v=spf1 a include:inc.example.com ip4:1.2.3.4 mx -all",
        ["inc.example.com"] = "v=spf1 a a a a a a a a",
        ["e9.example.com"] = "v=spf1 a include:inc.example.com a ip4:1.2.3.4 -all",
    };

    [Theory]
    [InlineData("e6.example.com", 10, false, false)] // mech-at-limit
    [InlineData("e7.example.com", 11, true, false)] // mech-over-limit
    // include-at-limit passes in pyspf only because evaluation stops at ip4:1.2.3.4 before mx; a static
    // count sees all 11 terms, and any other sending IP would hit the limit, so we warn.
    [InlineData("e8.example.com", 11, true, false)]
    [InlineData("e9.example.com", 11, true, false)] // include-over-limit
    [InlineData("e1.example.com", 1, false, true)] // redirect-loop
    [InlineData("e2.example.com", 2, false, true)] // include-loop
    public async Task Rfc7208_processing_limit_vectors(string domain, int lookups, bool overLimit, bool loop)
    {
        var count = await SpfLookupCounter.CountAsync(Rfc7208Limits[domain], domain, LookupIn(Rfc7208Limits), CancellationToken.None);

        Assert.Equal(lookups, count.Lookups);
        Assert.Equal(overLimit, count.OverLimit);
        Assert.Equal(loop, count.LoopDetected);
    }

    [Theory]
    [InlineData("v=spf1 ip4:192.0.2.1 ip6:2001:db8::1 -all", 0)]
    [InlineData("v=spf1 a mx ptr exists:%{i}.x.example -all", 4)]
    [InlineData("v=spf1 A:mail.example.org MX/24 -all", 2)]
    [InlineData("v=spf1 include:two.example -all", 3)] // include + its two lookups
    [InlineData("v=spf1 redirect=two.example", 3)]
    [InlineData("v=spf1 -all redirect=two.example", 0)] // redirect ignored when all is present (RFC 7208 §6.1)
    [InlineData("v=spf1 include:two.example include:two.example -all", 6)] // each include counts
    public async Task Counts_lookup_terms_recursively(string record, int expected)
    {
        var zone = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["two.example"] = "v=spf1 a mx ~all",
        };

        var count = await SpfLookupCounter.CountAsync(record, "acme.example", LookupIn(zone), CancellationToken.None);

        Assert.Equal(expected, count.Lookups);
        Assert.False(count.Incomplete);
    }

    [Fact]
    public async Task Missing_include_and_unanswered_include_make_the_count_incomplete()
    {
        Task<TxtLookupResult> Lookup(string name, CancellationToken ct) =>
            Task.FromResult(name == "down.example" ? TxtLookupResult.NoAnswer : TxtLookupResult.NotFound);

        var count = await SpfLookupCounter.CountAsync("v=spf1 include:gone.example include:down.example -all", "acme.example", Lookup, CancellationToken.None);

        Assert.Equal(2, count.Lookups);
        Assert.True(count.Incomplete);
        Assert.Contains(count.Problems, p => p.Contains("gone.example has no SPF record", StringComparison.Ordinal));
        Assert.Contains(count.Problems, p => p.Contains("did not answer for down.example", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Deep_chains_stop_at_the_depth_cap()
    {
        // chain0 -> chain1 -> ... -> chain49: no loop, but far deeper than any receiver follows.
        Task<TxtLookupResult> Lookup(string name, CancellationToken ct)
        {
            var n = int.Parse(name["chain".Length..name.IndexOf('.')], System.Globalization.CultureInfo.InvariantCulture);
            return Task.FromResult(TxtLookupResult.Of($"v=spf1 include:chain{n + 1}.example -all"));
        }

        var count = await SpfLookupCounter.CountAsync("v=spf1 include:chain0.example -all", "acme.example", Lookup, CancellationToken.None);

        Assert.True(count.Incomplete);
        Assert.True(count.OverLimit);
        Assert.Equal(SpfLookupCounter.DefaultMaxDepth + 1, count.Lookups);
    }

    [Fact]
    public async Task Includes_at_one_level_are_looked_up_concurrently()
    {
        var started = 0;
        var release = new TaskCompletionSource();
        async Task<TxtLookupResult> Lookup(string name, CancellationToken ct)
        {
            if (Interlocked.Increment(ref started) == 3)
            {
                release.SetResult();
            }

            await release.Task.WaitAsync(TimeSpan.FromSeconds(5), ct); // all three must be in flight together
            return TxtLookupResult.Of("v=spf1 a -all");
        }

        var count = await SpfLookupCounter.CountAsync("v=spf1 include:x.example include:y.example include:z.example -all", "acme.example", Lookup, CancellationToken.None);

        Assert.Equal(6, count.Lookups);
    }

    private static Func<string, CancellationToken, Task<TxtLookupResult>> LookupIn(IReadOnlyDictionary<string, string> zone) =>
        (name, _) => Task.FromResult(zone.TryGetValue(name, out var txt) ? TxtLookupResult.Of(txt) : TxtLookupResult.NotFound);
}
