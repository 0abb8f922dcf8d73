using ConnectiveOne.Core.Dns;

namespace ConnectiveOne.Tests.Dns;

[Trait("Database", "Unused")] // touches no database: runs in the SQLite pass only
public class SpfPlannerTests
{
    [Theory]
    // The example: include goes before the all term, its qualifier kept.
    [InlineData("v=spf1 include:_spf.google.com ~all", SpfPlanKind.Merge, "v=spf1 include:_spf.google.com include:mailgun.org ~all")]
    [InlineData("v=spf1 a mx -all", SpfPlanKind.Merge, "v=spf1 a mx include:mailgun.org -all")]
    [InlineData("v=spf1 a ?all", SpfPlanKind.Merge, "v=spf1 a include:mailgun.org ?all")]
    [InlineData("v=spf1 +all", SpfPlanKind.Merge, "v=spf1 include:mailgun.org +all")]
    [InlineData("v=spf1 mx all", SpfPlanKind.Merge, "v=spf1 mx include:mailgun.org all")]
    // Redirect-only: the include must come before the redirect, which applies only when nothing matched.
    [InlineData("v=spf1 redirect=_spf.example.net", SpfPlanKind.Merge, "v=spf1 include:mailgun.org redirect=_spf.example.net")]
    [InlineData("v=spf1 mx redirect=_spf.example.net", SpfPlanKind.Merge, "v=spf1 mx include:mailgun.org redirect=_spf.example.net")]
    // No all, no redirect: appended, the policy (neutral default) unchanged.
    [InlineData("v=spf1 ip4:192.0.2.0/24", SpfPlanKind.Merge, "v=spf1 ip4:192.0.2.0/24 include:mailgun.org")]
    // Other terms verbatim (case, modifiers after all); runs of spaces collapse.
    [InlineData("v=spf1  MX   ip6:2001:db8::/32 -all exp=explain.%{d}", SpfPlanKind.Merge, "v=spf1 MX ip6:2001:db8::/32 include:mailgun.org -all exp=explain.%{d}")]
    [InlineData("V=SPF1 a -all", SpfPlanKind.Merge, "v=spf1 a include:mailgun.org -all")]
    // Already included: value is the existing record, nothing to change.
    [InlineData("v=spf1 include:mailgun.org ~all", SpfPlanKind.AlreadyIncluded, "v=spf1 include:mailgun.org ~all")]
    [InlineData("v=spf1 a +include:MAILGUN.ORG. -all", SpfPlanKind.AlreadyIncluded, "v=spf1 a +include:MAILGUN.ORG. -all")]
    public void One_existing_record(string existing, SpfPlanKind kind, string expected)
    {
        var plan = SpfPlanner.Plan(["google-site-verification=abc", existing, "v=spf10 not-spf"], "mailgun.org");

        Assert.Equal(kind, plan.Kind);
        Assert.Equal(expected, plan.Value);
        Assert.Equal([existing], plan.ExistingRecords);
    }

    [Fact]
    public void No_record_creates_one_with_hard_fail()
    {
        var plan = SpfPlanner.Plan(["some-other=txt"], "mailgun.org");

        Assert.Equal(SpfPlanKind.Create, plan.Kind);
        Assert.Equal("v=spf1 include:mailgun.org -all", plan.Value);
    }

    [Fact]
    public void Configured_include_is_used()
    {
        var plan = SpfPlanner.Plan(["v=spf1 mx ~all"], "spf.relay.example");

        Assert.Equal("v=spf1 mx include:spf.relay.example ~all", plan.Value);
    }

    [Fact]
    public void Two_records_are_a_conflict_with_a_suggested_merge()
    {
        var plan = SpfPlanner.Plan(["v=spf1 include:_spf.google.com ~all", "V=SPF1 mx include:_spf.google.com -all"], "mailgun.org");

        Assert.Equal(SpfPlanKind.MultipleRecords, plan.Kind);
        Assert.Equal(2, plan.ExistingRecords.Count);
        Assert.Equal("v=spf1 include:_spf.google.com mx include:mailgun.org ~all", plan.Value);
    }

    [Theory]
    [InlineData("v=spf1", true)]
    [InlineData("v=spf1 -all", true)]
    [InlineData("V=Spf1 mx", true)]
    [InlineData("  v=spf1 mx", true)]
    [InlineData("v=spf10 mx", false)]
    [InlineData("spf1 mx", false)]
    [InlineData("v=DMARC1; p=none", false)]
    public void Spf_record_detection(string text, bool isSpf) => Assert.Equal(isSpf, SpfPlanner.IsSpfRecord(text));

    [Fact]
    public void Merge_is_idempotent()
    {
        var once = SpfPlanner.Merge("v=spf1 mx ~all", "mailgun.org");

        Assert.Equal(once, SpfPlanner.Merge(once, "mailgun.org"));
    }
}
