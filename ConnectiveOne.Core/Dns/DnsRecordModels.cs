namespace ConnectiveOne.Core.Dns;

/// <summary>Why a record exists; serialized as the API's <c>purpose</c>.</summary>
public enum RecordPurpose
{
    Verification,
    Spf,
    Dkim,
    Dmarc,
}

/// <summary>What a check found for one record.</summary>
public enum RecordStatus
{
    /// <summary>Published and matching.</summary>
    Ok,

    /// <summary>Nothing usable found at the name yet.</summary>
    Missing,

    /// <summary>Something is published but it does not match; the hint says what differs.</summary>
    Wrong,

    /// <summary>Works, or is optional, but deserves attention (DMARC missing, too many SPF lookups).</summary>
    Warning,

    /// <summary>The DNS server timed out or failed (SERVFAIL); says nothing about the record itself.</summary>
    NoAnswer,
}

/// <summary>The domain's overall state, as in the API's Domain <c>status</c>.</summary>
public enum DomainStatus
{
    /// <summary>A required record is not found yet, or DNS did not answer.</summary>
    Pending,

    /// <summary>Every required record matches.</summary>
    Verified,

    /// <summary>A required record is published but wrong.</summary>
    Failed,
}

/// <summary>How a TXT lookup ended. NXDOMAIN and "no TXT data" are both <see cref="NotFound"/>.</summary>
public enum TxtLookupStatus
{
    Found,
    NotFound,

    /// <summary>Timeout, SERVFAIL, refused: the answer is unknown, not negative.</summary>
    NoAnswer,
}

/// <summary>One TXT record as DNS returned it: its character-strings, in order.</summary>
public sealed record TxtRecordData(IReadOnlyList<string> Strings)
{
    /// <summary>The strings joined without separator, as RFC 7208 §3.3 and RFC 6376 §3.6.2.2 read them.</summary>
    public string Joined => string.Concat(Strings);

    public static TxtRecordData Of(params string[] strings) => new(strings);
}

/// <summary>The TXT records found at one name.</summary>
public sealed record TxtLookupResult(TxtLookupStatus Status, IReadOnlyList<TxtRecordData> Records)
{
    public static TxtLookupResult NotFound { get; } = new(TxtLookupStatus.NotFound, []);

    public static TxtLookupResult NoAnswer { get; } = new(TxtLookupStatus.NoAnswer, []);

    /// <summary>A found result with one single-string record per value.</summary>
    public static TxtLookupResult Of(params string[] records) =>
        records.Length == 0
            ? NotFound
            : new(TxtLookupStatus.Found, records.Select(r => TxtRecordData.Of(r)).ToArray());
}

/// <summary>The DKIM public key to publish under one selector.</summary>
/// <remarks>
/// <para><c>Required</c>: False for a key prepared for rotation (<c>k2</c>).</para>
/// </remarks>
public sealed record DkimSelectorKey(string Selector, string PublicKeyBase64, bool Required);

/// <summary>What ConnectiveOne needs to plan and check the records of one domain.</summary>
/// <remarks>
/// <para><c>Domain</c>: The domain, in punycode (A-labels).</para>
/// <para><c>VerificationToken</c>: The random token of <c>connectiveone-verification=</c>.</para>
/// <para><c>DkimKeys</c>: Usually <c>k1</c> (required) and <c>k2</c> (rotation, optional).</para>
/// <para><c>SpfInclude</c>: The relay's SPF include, <c>ConnectiveOne:Outbound:SpfInclude</c>.</para>
/// </remarks>
public sealed record DomainDnsSettings(
    string Domain,
    string VerificationToken,
    IReadOnlyList<DkimSelectorKey> DkimKeys,
    string SpfInclude = DomainDnsSettings.DefaultSpfInclude)
{
    public const string DefaultSpfInclude = "mailgun.org";
}

/// <summary>Everything DNS returned for one domain, the input of matching.</summary>
/// <remarks>
/// <para><c>Dkim</c>: TXT results by selector (<c>k1</c> → lookup of <c>k1._domainkey.&lt;domain&gt;</c>).</para>
/// <para><c>SpfLookups</c>: The lookup count of the SPF value to publish; null when it was not computed.</para>
/// </remarks>
public sealed record DomainDnsSnapshot(
    TxtLookupResult Apex,
    TxtLookupResult Dmarc,
    IReadOnlyDictionary<string, TxtLookupResult> Dkim,
    SpfLookupCount? SpfLookups = null);

/// <summary>A record to publish, before comparing it with DNS.</summary>
/// <remarks>
/// <para><c>Host</c>: The full owner name, without trailing dot (<c>k1._domainkey.acme.com</c>).</para>
/// <para><c>Value</c>: Exactly what to publish (for SPF the merged value, for DMARC an existing record is kept).</para>
/// </remarks>
public sealed record PlannedRecord(RecordPurpose Purpose, bool Required, string Type, string Host, string Value);

/// <summary>One record as shown to the user: what to publish, what was found, and what to do.</summary>
/// <remarks>
/// <para><c>Found</c>: Each TXT record found at the host that is relevant to this purpose, strings joined.</para>
/// <para><c>Hint</c>: Words for the user; null when there is nothing to say.</para>
/// </remarks>
public sealed record CheckedRecord(
    RecordPurpose Purpose,
    bool Required,
    string Type,
    string Host,
    string Value,
    IReadOnlyList<string> Found,
    RecordStatus Status,
    string? Hint);

/// <summary>The outcome of one check of a domain.</summary>
/// <remarks>
/// <para><c>DnsDidNotAnswer</c>: True when some lookup timed out or failed, so the status is at best Pending.</para>
/// <para><c>ZoneFile</c>: All records as zone-file lines, one text block.</para>
/// </remarks>
public sealed record DomainCheckResult(
    string Domain,
    DomainStatus Status,
    DateTimeOffset CheckedAt,
    IReadOnlyList<CheckedRecord> Records,
    bool DnsDidNotAnswer,
    string ZoneFile);
