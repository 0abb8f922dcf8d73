namespace ConnectiveOne.Core.Dns;

/// <summary>Pure: what a check changed, in words, for the Verify Now result ("DKIM (k1) found, SPF still missing.").</summary>
public static class CheckChanges
{
    /// <summary>
    /// Compares the required records of two checks: what turned found, wrong or gone first, then what stayed missing or
    /// wrong. <paramref name="before"/> is empty when there was no check before.
    /// </summary>
    public static string Describe(IReadOnlyList<CheckedRecord> before, IReadOnlyList<CheckedRecord> after)
    {
        var changed = new List<string>();
        var still = new List<string>();
        foreach (var record in after.Where(r => r.Required))
        {
            var old = before.FirstOrDefault(b => b.Purpose == record.Purpose && string.Equals(b.Host, record.Host, StringComparison.OrdinalIgnoreCase))?.Status;
            var name = Name(record);
            switch (record.Status)
            {
                case RecordStatus.Ok or RecordStatus.Warning when old is not (RecordStatus.Ok or RecordStatus.Warning):
                    changed.Add($"{name} found");
                    break;
                case RecordStatus.Ok or RecordStatus.Warning:
                    break;
                case RecordStatus.Missing when old is RecordStatus.Ok or RecordStatus.Warning:
                    changed.Add($"{name} gone");
                    break;
                case RecordStatus.Missing:
                    still.Add(old is null ? $"{name} missing" : $"{name} still missing");
                    break;
                case RecordStatus.Wrong when old == RecordStatus.Wrong:
                    still.Add($"{name} still wrong");
                    break;
                case RecordStatus.Wrong:
                    changed.Add($"{name} found but wrong");
                    break;
                default:
                    still.Add($"{name} not answered by DNS");
                    break;
            }
        }

        if (changed.Count == 0 && still.Count == 0)
            return "Every required record is found.";
        var text = string.Join(", ", changed.Concat(still)) + ".";
        return changed.Count == 0 && before.Count > 0 ? "Nothing changed: " + text : char.ToUpperInvariant(text[0]) + text[1..];
    }

    /// <summary>The record's short name: "Verification record", "SPF", "DKIM (k1)", "DMARC".</summary>
    public static string Name(CheckedRecord record) => record.Purpose switch
    {
        RecordPurpose.Verification => "verification record",
        RecordPurpose.Spf => "SPF",
        RecordPurpose.Dkim => $"DKIM ({record.Host.Split('.')[0]})",
        _ => "DMARC",
    };
}
