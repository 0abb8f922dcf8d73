using System.Text.Json;
using System.Text.Json.Serialization;

namespace ConnectiveOne.Core.Dns;

/// <summary>A domain as shown to people and the API: its status and, per record, expected, found, status and hint.</summary>
/// <remarks>
/// <para><c>Hint</c>: a word about the whole domain (DNS did not answer, still not found after 48 hours, a record removed).</para>
/// <para><c>Records</c>: empty until the first check.</para>
/// </remarks>
public sealed record DomainView(
    string Name,
    string DisplayName,
    DomainStatus Status,
    DateTimeOffset? CheckedAt,
    DateTimeOffset? NextCheckAt,
    IReadOnlyList<CheckedRecord> Records,
    string? Hint,
    string ZoneFile)
{
    /// <summary>
    /// When someone first tried to verify: Verify Now pressed, or a check found one of ConnectiveOne's own records
    /// (the verification token, the DKIM key). Until then nothing was published, so nothing can be wrong: the domain
    /// is "not verified yet", never Failed (a foreign SPF record without the include is what is to be replaced, not a
    /// mistake). Null before.
    /// </summary>
    public DateTimeOffset? AttemptedAt { get; init; }
}

/// <summary>Pure: how one check result changes a stored domain (status rules, schedule, stored records).</summary>
public static class DomainCheckOutcome
{
    public const string RemovedHint =
        "This record was verified before and is now missing from DNS. Publish it again with the value shown.";

    private static readonly JsonSerializerOptions _json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>What is stored in <see cref="MailDomain.LastCheckJson"/>.</summary>
    /// <remarks><c>CheckError</c>: why the last check could not be done at all (the records are those of the check before).</remarks>
    /// <remarks><c>AttemptedAt</c>: see <see cref="DomainView.AttemptedAt"/>; kept here, beside the records, so that no column is needed.</remarks>
    private sealed record StoredCheck(IReadOnlyList<CheckedRecord> Records, bool DnsDidNotAnswer, string ZoneFile, string? CheckError = null,
        DateTimeOffset? AttemptedAt = null);

    /// <summary>The DNS settings of a stored domain: k1 required, k2 prepared for rotation.</summary>
    public static DomainDnsSettings SettingsOf(MailDomain domain, string spfInclude) =>
        new(domain.Name,
            domain.VerificationToken,
            domain.DkimKeys
                .OrderBy(k => k.Selector, StringComparer.Ordinal)
                .Select(k => new DkimSelectorKey(k.Selector, k.PublicKey, k.Active))
                .ToArray(),
            spfInclude);

    /// <summary>
    /// Applies a check to the domain. A DNS outage keeps the stored status (Pending stays Pending, Verified is not
    /// demoted); once a domain was verified, a missing required record means it was removed and the domain Failed.
    /// Before the first attempt (<paramref name="explicitAttempt"/>: Verify Now; or a check that finds one of our own
    /// records) a record that is there but not ours yet (a foreign SPF record) is only "to publish": the domain stays
    /// Pending. Returns true when the status changed.
    /// </summary>
    public static bool Apply(MailDomain domain, DomainCheckResult result, DateTimeOffset now, RecheckOptions schedule,
        bool explicitAttempt = false)
    {
        var records = result.Records;
        var status = result.Status;
        var attemptedAt = Read(domain)?.AttemptedAt
            ?? (explicitAttempt || domain.VerifiedAt is not null || ShowsPublishing(records) ? now : (DateTimeOffset?)null);
        if (attemptedAt is null && status == DomainStatus.Failed)
        {
            status = DomainStatus.Pending;
            records = records.Select(r => r.Status == RecordStatus.Wrong ? r with { Status = RecordStatus.Missing } : r).ToArray();
        }
        if (result.DnsDidNotAnswer)
        {
            status = domain.Status;
        }
        else if (status == DomainStatus.Pending && domain.VerifiedAt is not null)
        {
            status = DomainStatus.Failed;
            records = records
                .Select(r => r.Required && r.Status == RecordStatus.Missing ? r with { Status = RecordStatus.Wrong, Hint = RemovedHint } : r)
                .ToArray();
        }

        var changed = status != domain.Status;
        domain.Status = status;
        if (changed)
            domain.StatusChangedAt = now;
        if (status == DomainStatus.Verified)
            domain.VerifiedAt = now;
        domain.CheckedAt = result.CheckedAt;
        domain.NextCheckAt = RecheckSchedule.NextCheckAt(status, domain.StatusChangedAt, now, schedule);
        domain.LastCheckJson = JsonSerializer.Serialize(new StoredCheck(records, result.DnsDidNotAnswer, result.ZoneFile, AttemptedAt: attemptedAt), _json);
        return changed;
    }

    /// <summary>
    /// True when DNS holds one of the records only an admin following these steps publishes: a verification record
    /// (whatever its token) or the DKIM key, also a truncated copy of it. A foreign SPF or DMARC record does not count.
    /// </summary>
    public static bool ShowsPublishing(IEnumerable<CheckedRecord> records) => records.Any(r =>
        (r.Purpose == RecordPurpose.Verification && r.Found.Count > 0)
        || (r.Purpose == RecordPurpose.Dkim && (r.Status == RecordStatus.Ok || r.Found.Any(f => SharesKey(f, r.Value)))));

    // Every RSA-2048 key starts with the same 44 characters of ASN.1 header; 80 characters of the record take in its own.
    private static bool SharesKey(string found, string expected)
    {
        static string Compact(string v) => string.Concat(v.Where(c => !char.IsWhiteSpace(c) && c != '"'));
        var want = Compact(expected);
        return want.Length >= 80 && Compact(found).StartsWith(want[..80], StringComparison.Ordinal);
    }

    /// <summary>
    /// A check that could not be done at all (<paramref name="reason"/>, in words): status and records stay as they were,
    /// the reason is shown with the domain, and it is checked again soon rather than holding up the domains behind it.
    /// </summary>
    public static void RecordFailure(MailDomain domain, string reason, DateTimeOffset now, RecheckOptions schedule)
    {
        var stored = Read(domain) ?? new StoredCheck([], false, "");
        domain.LastCheckJson = JsonSerializer.Serialize(stored with { CheckError = reason }, _json);
        domain.NextCheckAt = now + schedule.FastInterval;
    }

    private static StoredCheck? Read(MailDomain domain)
    {
        try
        {
            return domain.LastCheckJson is null ? null : JsonSerializer.Deserialize<StoredCheck>(domain.LastCheckJson, _json);
        }
        catch (JsonException)
        {
            return null; // shown as never checked; the next check writes it anew
        }
    }

    /// <summary>The domain as last checked (no records before the first check).</summary>
    public static DomainView View(MailDomain domain, DateTimeOffset now, RecheckOptions schedule)
    {
        var stored = Read(domain);
        string? hint = null;
        if (stored?.CheckError is { } error)
            hint = $"The last check could not be done ({error}); the status shown is the last known one. ConnectiveOne checks again by itself.";
        else if (stored?.DnsDidNotAnswer == true)
            hint = "The DNS server did not answer, so some records could not be checked; the status shown is the last known one. ConnectiveOne checks again by itself.";
        else if (stored is not null && stored.Records.Any(r => r.Hint == RemovedHint))
            hint = "A record that was verified is gone from DNS. Replies go out from the technical address until it is published again.";
        else if (RecheckSchedule.IsOverdue(domain.Status, domain.StatusChangedAt, now, schedule))
            hint = "Still not found after 48 hours. Check at your DNS provider that each record has exactly the name and value shown; ConnectiveOne keeps checking every hour.";

        return new DomainView(
            domain.Name,
            Addresses.EmailAddressRules.ToUnicodeDomain(domain.Name),
            domain.Status,
            domain.CheckedAt,
            domain.NextCheckAt,
            stored?.Records ?? [],
            hint,
            stored?.ZoneFile ?? "")
        {
            AttemptedAt = stored?.AttemptedAt ?? domain.VerifiedAt,
        };
    }
}
