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
    string ZoneFile);

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
    private sealed record StoredCheck(IReadOnlyList<CheckedRecord> Records, bool DnsDidNotAnswer, string ZoneFile, string? CheckError = null);

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
    /// Returns true when the status changed.
    /// </summary>
    public static bool Apply(MailDomain domain, DomainCheckResult result, DateTimeOffset now, RecheckOptions schedule)
    {
        var records = result.Records;
        var status = result.Status;
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
        domain.LastCheckJson = JsonSerializer.Serialize(new StoredCheck(records, result.DnsDidNotAnswer, result.ZoneFile), _json);
        return changed;
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
            stored?.ZoneFile ?? "");
    }
}
