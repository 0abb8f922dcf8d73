namespace ConnectiveOne.Core.Dns;

/// <summary>Pure planning of the records a domain must publish, given what its apex and <c>_dmarc</c> hold now.</summary>
public static class DnsRecordPlanner
{
    public const string VerificationPrefix = "connectiveone-verification=";
    public const string RecommendedDmarc = "v=DMARC1; p=none;";
    public const int ZoneFileTtl = 3600;

    /// <summary>The one propagation estimate every page and hint gives.</summary>
    public const string PropagationEstimate = "DNS changes usually appear within an hour, at most 48 hours.";

    public static string VerificationValue(string token) => VerificationPrefix + token;

    public static string DmarcHost(string domain) => "_dmarc." + domain;

    /// <summary>
    /// The host as registrars' panels want it: relative to the zone, <c>@</c> for the domain itself
    /// (<c>k1._domainkey.acme.com</c> → <c>k1._domainkey</c>). A name outside the domain stays full.
    /// </summary>
    public static string RelativeHost(string host, string domain)
    {
        var name = host.TrimEnd('.');
        var zone = domain.TrimEnd('.');
        if (string.Equals(name, zone, StringComparison.OrdinalIgnoreCase))
            return "@";
        return name.EndsWith("." + zone, StringComparison.OrdinalIgnoreCase) ? name[..^(zone.Length + 1)] : name;
    }

    /// <summary>
    /// The records to publish: verification, SPF (merged with the current one), each DKIM key, and DMARC
    /// (an existing record is kept). Pass <see cref="TxtLookupResult.NotFound"/> when nothing was looked up yet.
    /// </summary>
    public static IReadOnlyList<PlannedRecord> Plan(DomainDnsSettings settings, TxtLookupResult apex, TxtLookupResult dmarc)
    {
        var domain = settings.Domain;
        var records = new List<PlannedRecord>
        {
            new(RecordPurpose.Verification, true, "TXT", domain, VerificationValue(settings.VerificationToken)),
            new(RecordPurpose.Spf, true, "TXT", domain, PlanSpf(settings, apex).Value),
        };
        records.AddRange(settings.DkimKeys.Select(k =>
            new PlannedRecord(RecordPurpose.Dkim, k.Required, "TXT", DkimRecord.Host(k.Selector, domain), DkimRecord.TxtValue(k.PublicKeyBase64))));

        var existingDmarc = DmarcRecords(dmarc);
        records.Add(new(
            RecordPurpose.Dmarc,
            false,
            "TXT",
            DmarcHost(domain),
            existingDmarc.Count == 1 ? existingDmarc[0] : RecommendedDmarc));
        return records;
    }

    public static SpfPlan PlanSpf(DomainDnsSettings settings, TxtLookupResult apex) =>
        SpfPlanner.Plan(apex.Records.Select(TxtStrings.Normalize), settings.SpfInclude);

    /// <summary>The DMARC records among the TXT values found at <c>_dmarc</c>.</summary>
    public static IReadOnlyList<string> DmarcRecords(TxtLookupResult dmarc) =>
        dmarc.Records
            .Select(TxtStrings.Normalize)
            .Where(v => TagList.Parse(v).TryGetValue("v", out var version)
                && string.Equals(version, "DMARC1", StringComparison.OrdinalIgnoreCase))
            .ToArray();

    /// <summary>All records as zone-file lines (<c>name. 3600 IN TXT "..." "..."</c>), each after a comment naming its purpose.</summary>
    public static string ZoneFile(IEnumerable<PlannedRecord> records)
    {
        var lines = new List<string>();
        foreach (var r in records)
        {
            lines.Add($"; {Describe(r)}");
            lines.Add($"{r.Host.TrimEnd('.')}. {ZoneFileTtl} IN {r.Type} {TxtStrings.ToQuoted(r.Value)}");
        }

        return string.Join('\n', lines) + "\n";
    }

    private static string Describe(PlannedRecord r) =>
        r.Purpose switch
        {
            RecordPurpose.Verification => "Domain verification (required)",
            RecordPurpose.Spf => "SPF (required; replaces any existing SPF record)",
            RecordPurpose.Dkim when r.Required => "DKIM key (required)",
            RecordPurpose.Dkim => "DKIM key for rotation (optional)",
            _ => "DMARC (recommended)",
        };
}
