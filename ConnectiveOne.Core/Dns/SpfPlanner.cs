namespace ConnectiveOne.Core.Dns;

/// <summary>How the SPF record to publish relates to what the domain has now.</summary>
public enum SpfPlanKind
{
    /// <summary>No SPF record yet: publish a new one.</summary>
    Create,

    /// <summary>One SPF record without the include: replace it with the merged value.</summary>
    Merge,

    /// <summary>The include is already there: nothing to change.</summary>
    AlreadyIncluded,

    /// <summary>Two or more SPF records: receivers treat that as a permanent error (RFC 7208 §4.5).</summary>
    MultipleRecords,
}

/// <remarks>
/// <para><c>Value</c>: What to publish at the apex (for <see cref="SpfPlanKind.MultipleRecords"/>, a suggested merge of all of them).</para>
/// <para><c>ExistingRecords</c>: The SPF records found at the apex, strings joined.</para>
/// </remarks>
public sealed record SpfPlan(SpfPlanKind Kind, string Value, IReadOnlyList<string> ExistingRecords);

/// <summary>Pure SPF record planning: detect, check for the include, and merge it in without a second record.</summary>
public static class SpfPlanner
{
    private const string Version = "v=spf1";

    /// <summary>True when the text is an SPF record: <c>v=spf1</c> (any case) alone or followed by a space (RFC 7208 §4.5).</summary>
    public static bool IsSpfRecord(string text)
    {
        var t = text.TrimStart();
        return t.StartsWith(Version, StringComparison.OrdinalIgnoreCase)
            && (t.Length == Version.Length || t[Version.Length] == ' ');
    }

    /// <summary>Plans the SPF record from the TXT values found at the apex (each one record, strings joined).</summary>
    public static SpfPlan Plan(IEnumerable<string> apexTxtValues, string include)
    {
        var existing = apexTxtValues.Select(v => v.Trim()).Where(IsSpfRecord).ToArray();
        return existing.Length switch
        {
            0 => new SpfPlan(SpfPlanKind.Create, $"{Version} include:{include} -all", existing),
            1 when Includes(existing[0], include) => new SpfPlan(SpfPlanKind.AlreadyIncluded, existing[0], existing),
            1 => new SpfPlan(SpfPlanKind.Merge, Merge(existing[0], include), existing),
            _ => new SpfPlan(SpfPlanKind.MultipleRecords, MergeSeveral(existing, include), existing),
        };
    }

    /// <summary>True when the record has <c>include:&lt;include&gt;</c> (or <c>+include:</c>), case-insensitive.</summary>
    public static bool Includes(string record, string include)
    {
        var wanted = "include:" + include.TrimEnd('.');
        return Terms(record).Any(t =>
        {
            var term = t.StartsWith('+') ? t[1..] : t;
            return string.Equals(term.TrimEnd('.'), wanted, StringComparison.OrdinalIgnoreCase);
        });
    }

    /// <summary>
    /// Inserts <c>include:&lt;include&gt;</c> into one SPF record: before the <c>all</c> mechanism (its qualifier kept);
    /// without <c>all</c>, before a <c>redirect=</c> modifier (the redirect only applies when nothing matched);
    /// otherwise at the end. Every other term is kept verbatim; runs of spaces become one.
    /// </summary>
    public static string Merge(string record, string include)
    {
        var terms = Terms(record).ToList();
        if (Includes(record, include))
        {
            return string.Join(' ', terms.Prepend(Version));
        }

        var at = terms.FindIndex(IsAll);
        if (at < 0)
        {
            at = terms.FindIndex(IsRedirect);
        }

        terms.Insert(at < 0 ? terms.Count : at, "include:" + include);
        return string.Join(' ', terms.Prepend(Version));
    }

    /// <summary>
    /// A suggestion for merging several SPF records into one: the mechanisms of all of them in order
    /// (duplicates once), the include, then the first record's <c>all</c> (or, without any, its redirect).
    /// </summary>
    public static string MergeSeveral(IReadOnlyList<string> records, string include)
    {
        var all = records.SelectMany(Terms).ToList();
        var ending = all.FirstOrDefault(IsAll) ?? all.FirstOrDefault(IsRedirect);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var merged = all
            .Where(t => !IsAll(t) && !IsRedirect(t) && seen.Add(t))
            .ToList();
        var combined = string.Join(' ', merged.Prepend(Version));
        if (ending is not null)
        {
            combined += " " + ending;
        }

        return Merge(combined, include);
    }

    /// <summary>The terms after <c>v=spf1</c>, split on whitespace.</summary>
    public static IEnumerable<string> Terms(string record) =>
        record.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Skip(1);

    internal static string StripQualifier(string term) =>
        term.Length > 0 && term[0] is '+' or '-' or '~' or '?' ? term[1..] : term;

    internal static bool IsAll(string term) =>
        string.Equals(StripQualifier(term), "all", StringComparison.OrdinalIgnoreCase);

    internal static bool IsRedirect(string term) =>
        term.StartsWith("redirect=", StringComparison.OrdinalIgnoreCase);
}
