namespace ConnectiveOne.Core.Dns;

/// <summary>Pure comparison of planned records with what DNS returned, and the resulting domain status.</summary>
public static class DnsRecordMatcher
{
    public const string DidNotAnswerHint =
        "The DNS server did not answer (timeout or server failure), so this record could not be checked. It is checked again later.";

    private const string NotFoundYetHint = "Not found yet. Publish the value shown. " + DnsRecordPlanner.PropagationEstimate;

    /// <summary>Plans the records from <paramref name="snapshot"/>, compares each one, and derives the domain status.</summary>
    public static DomainCheckResult Check(DomainDnsSettings settings, DomainDnsSnapshot snapshot, DateTimeOffset checkedAt)
    {
        var planned = DnsRecordPlanner.Plan(settings, snapshot.Apex, snapshot.Dmarc);
        var spfPlan = DnsRecordPlanner.PlanSpf(settings, snapshot.Apex);
        var dkimKeys = settings.DkimKeys.ToDictionary(k => DkimRecord.Host(k.Selector, settings.Domain), StringComparer.OrdinalIgnoreCase);

        var records = planned.Select(p => p.Purpose switch
        {
            RecordPurpose.Verification => CheckVerification(p, snapshot.Apex),
            RecordPurpose.Spf => CheckSpf(p, snapshot.Apex, spfPlan, settings, snapshot.SpfLookups),
            RecordPurpose.Dkim => CheckDkim(p, LookupFor(snapshot, dkimKeys[p.Host].Selector), dkimKeys[p.Host].PublicKeyBase64),
            _ => CheckDmarc(p, snapshot.Dmarc),
        }).ToArray();

        return new DomainCheckResult(
            settings.Domain,
            DomainStatusOf(records),
            checkedAt,
            records,
            records.Any(r => r.Status == RecordStatus.NoAnswer),
            DnsRecordPlanner.ZoneFile(planned));
    }

    /// <summary>Failed when a required record is wrong; else Pending when one is missing or unanswered; else Verified.</summary>
    public static DomainStatus DomainStatusOf(IEnumerable<CheckedRecord> records)
    {
        var required = records.Where(r => r.Required).ToArray();
        if (required.Any(r => r.Status == RecordStatus.Wrong))
        {
            return DomainStatus.Failed;
        }

        return required.Any(r => r.Status is RecordStatus.Missing or RecordStatus.NoAnswer)
            ? DomainStatus.Pending
            : DomainStatus.Verified;
    }

    public static CheckedRecord CheckVerification(PlannedRecord planned, TxtLookupResult apex)
    {
        if (apex.Status == TxtLookupStatus.NoAnswer)
        {
            return With(planned, [], RecordStatus.NoAnswer, DidNotAnswerHint);
        }

        var found = apex.Records
            .Select(TxtStrings.Normalize)
            .Where(v => v.StartsWith("connectiveone-verification", StringComparison.OrdinalIgnoreCase))
            .ToArray();
        if (found.Length == 0)
        {
            return With(planned, found, RecordStatus.Missing, NotFoundYetHint);
        }

        var expectedToken = planned.Value[DnsRecordPlanner.VerificationPrefix.Length..];
        if (found.Any(v => string.Equals(TokenOf(v), expectedToken, StringComparison.Ordinal)))
        {
            return With(planned, found, RecordStatus.Ok, null);
        }

        return With(planned, found, RecordStatus.Wrong,
            "A verification record is there, but its token is different. Replace it with the value shown.");
    }

    public static CheckedRecord CheckSpf(
        PlannedRecord planned,
        TxtLookupResult apex,
        SpfPlan plan,
        DomainDnsSettings settings,
        SpfLookupCount? lookups)
    {
        if (apex.Status == TxtLookupStatus.NoAnswer)
        {
            return With(planned, [], RecordStatus.NoAnswer, DidNotAnswerHint);
        }

        var (status, hint) = plan.Kind switch
        {
            SpfPlanKind.Create => (RecordStatus.Missing, "No SPF record yet. Publish the value shown."),
            SpfPlanKind.Merge => (RecordStatus.Wrong,
                $"Your SPF record does not include {settings.SpfInclude} yet. Replace it with the value shown "
                + "(it keeps your current entries); do not add a second SPF record."),
            SpfPlanKind.MultipleRecords => (RecordStatus.Wrong,
                $"There are {plan.ExistingRecords.Count} SPF records at {settings.Domain}; receivers treat that as an error. "
                + $"Please merge these into one: replace \"{plan.ExistingRecords[0]}\" with the value shown and delete "
                + string.Join(" and ", plan.ExistingRecords.Skip(1).Select(r => $"\"{r}\"")) + "."),
            _ => (RecordStatus.Ok, (string?)null),
        };

        var notes = new List<string>();
        if (hint is not null)
        {
            notes.Add(hint);
        }

        if (plan.ExistingRecords.Any(r => SpfPlanner.Terms(r).Any(t => string.Equals(t, "+all", StringComparison.OrdinalIgnoreCase) || string.Equals(t, "all", StringComparison.OrdinalIgnoreCase))))
        {
            notes.Add("Your SPF record ends in +all, which lets any server send mail as your domain; consider ~all or -all.");
        }

        if (lookups is not null)
        {
            if (lookups.OverLimit)
            {
                notes.Add(
                    $"This SPF record needs {lookups.Lookups} DNS lookups; receivers allow at most {SpfLookupCount.Limit} "
                    + "and then treat SPF as an error. Remove includes you no longer use, or replace some with ip4:/ip6: ranges.");
            }

            // Loops, includes without SPF record, unanswered includes: each breaks SPF at receivers or hides cost.
            notes.AddRange(lookups.Problems);
        }

        if (status == RecordStatus.Ok && notes.Count > 0)
        {
            status = RecordStatus.Warning;
        }

        return With(planned, plan.ExistingRecords, status, notes.Count == 0 ? null : string.Join(' ', notes));
    }

    public static CheckedRecord CheckDkim(PlannedRecord planned, TxtLookupResult found, string expectedKey)
    {
        if (found.Status == TxtLookupStatus.NoAnswer)
        {
            return With(planned, [], RecordStatus.NoAnswer, DidNotAnswerHint);
        }

        var values = found.Records.Select(TxtStrings.Normalize).ToArray();
        if (values.Length == 0)
        {
            return With(planned, values, RecordStatus.Missing, planned.Required
                ? NotFoundYetHint
                : "Optional: publish this second key now so the signing key can be rotated later without waiting for DNS.");
        }

        string? firstProblem = null;
        foreach (var value in values)
        {
            var problem = DkimProblem(value, expectedKey);
            if (problem is null)
            {
                return With(planned, values, RecordStatus.Ok, null);
            }

            firstProblem ??= problem;
        }

        var hint = firstProblem + (values.Length > 1 ? $" ({values.Length} records were found at this name; keep only one.)" : "");
        return With(planned, values, planned.Required ? RecordStatus.Wrong : RecordStatus.Warning, hint);
    }

    /// <summary>What differs between a published DKIM record and the expected key; null when it matches.</summary>
    /// <remarks>Compared by key, not by text: tag order, spacing and whitespace inside <c>p=</c> do not matter (RFC 6376 §3.6.1).</remarks>
    public static string? DkimProblem(string published, string expectedKey)
    {
        var tags = TagList.Parse(published);
        if (tags.TryGetValue("v", out var version) && !string.Equals(version, "DKIM1", StringComparison.Ordinal))
        {
            return $"The record starts with v={version}; it must be v=DKIM1.";
        }

        if (tags.TryGetValue("k", out var keyType) && !string.Equals(keyType, "rsa", StringComparison.OrdinalIgnoreCase))
        {
            return $"The record says k={keyType}; the key is RSA, so it must say k=rsa.";
        }

        if (!tags.TryGetValue("p", out var rawKey))
        {
            return "The record has no p= tag, so it holds no key. Publish the value shown.";
        }

        var key = string.Concat(rawKey.Where(c => !char.IsWhiteSpace(c) && c != '"'));
        var expected = string.Concat(expectedKey.Where(c => !char.IsWhiteSpace(c)));
        if (string.Equals(key, expected, StringComparison.Ordinal))
        {
            return null;
        }

        if (key.Length == 0)
        {
            return "The key is empty (p=), which means the key is revoked. Publish the value shown.";
        }

        if (key.Length < expected.Length && expected.StartsWith(key, StringComparison.Ordinal))
        {
            return $"The key is shorter than expected: it looks truncated ({key.Length} of {expected.Length} characters). "
                + "Some DNS panels cut long values; paste it as several quoted strings of at most 255 characters.";
        }

        if (key.Length > expected.Length && key.StartsWith(expected, StringComparison.Ordinal))
        {
            return "The key is longer than expected: there are extra characters after it.";
        }

        return "The key differs from the one ConnectiveOne generated for this domain. Copy the value shown again.";
    }

    public static CheckedRecord CheckDmarc(PlannedRecord planned, TxtLookupResult dmarc)
    {
        if (dmarc.Status == TxtLookupStatus.NoAnswer)
        {
            return With(planned, [], RecordStatus.NoAnswer, DidNotAnswerHint);
        }

        var found = DnsRecordPlanner.DmarcRecords(dmarc);
        if (found.Count == 0)
        {
            return With(planned, found, RecordStatus.Warning,
                "Recommended, not required: publish a DMARC record. p=none only asks receivers for reports; it blocks no mail.");
        }

        if (found.Count > 1)
        {
            return With(planned, found, RecordStatus.Warning,
                $"There are {found.Count} DMARC records; receivers then ignore DMARC. Keep only one.");
        }

        var policy = TagList.Parse(found[0]).GetValueOrDefault("p") ?? "";
        var strict = policy.Equals("reject", StringComparison.OrdinalIgnoreCase) || policy.Equals("quarantine", StringComparison.OrdinalIgnoreCase);
        return With(planned, found, RecordStatus.Ok, strict
            ? $"Your DMARC policy is p={policy.ToLowerInvariant()}: mail that fails DMARC is {(policy.Equals("reject", StringComparison.OrdinalIgnoreCase) ? "rejected" : "sent to spam")}. "
                + "Mail from ConnectiveOne passes once the DKIM record above is verified: it must be DKIM-aligned, that is signed for the same domain as its From address."
            : "Your existing DMARC record is kept.");
    }

    private static TxtLookupResult LookupFor(DomainDnsSnapshot snapshot, string selector) =>
        snapshot.Dkim.TryGetValue(selector, out var result) ? result : TxtLookupResult.NotFound;

    private static string TokenOf(string verificationRecord)
    {
        var eq = verificationRecord.IndexOf('=');
        return eq < 0 ? "" : verificationRecord[(eq + 1)..].Trim();
    }

    private static CheckedRecord With(PlannedRecord p, IReadOnlyList<string> found, RecordStatus status, string? hint) =>
        new(p.Purpose, p.Required, p.Type, p.Host, p.Value, found, status, hint);
}
