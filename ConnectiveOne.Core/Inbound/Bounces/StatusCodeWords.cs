namespace ConnectiveOne.Core.Inbound.Bounces;

/// <summary>Enhanced mail status codes (RFC 3463) in words an operator understands without looking them up.</summary>
public static class StatusCodeWords
{
    private static readonly Dictionary<string, string> Details = new(StringComparer.Ordinal)
    {
        ["1.0"] = "The address was refused",
        ["1.1"] = "The mailbox does not exist",
        ["1.2"] = "The recipient's domain does not exist",
        ["1.3"] = "The address is not valid",
        ["1.4"] = "The address is ambiguous",
        ["1.6"] = "The mailbox has moved",
        ["1.10"] = "The recipient's domain accepts no mail",
        ["2.0"] = "The mailbox cannot take mail",
        ["2.1"] = "The mailbox is disabled",
        ["2.2"] = "The mailbox is full",
        ["2.3"] = "The message is too large for the mailbox",
        ["2.4"] = "A mailing list could not be expanded",
        ["3.0"] = "The receiving mail system failed",
        ["3.1"] = "The receiving mail system is full",
        ["3.4"] = "The message is too large",
        ["4.0"] = "A network or routing problem",
        ["4.1"] = "The receiving server did not answer",
        ["4.2"] = "The connection to the receiving server broke",
        ["4.4"] = "No mail server could be found for the recipient's domain",
        ["4.6"] = "A mail routing loop",
        ["4.7"] = "Delivery took too long and was given up",
        ["5.0"] = "A mail protocol error",
        ["5.3"] = "Too many recipients",
        ["6.0"] = "The content was refused",
        ["7.0"] = "Refused by the receiving server's policy",
        ["7.1"] = "Refused: the sender is not allowed to deliver there",
        ["7.26"] = "Refused: the message failed the recipient's authentication checks (SPF/DKIM/DMARC)",
    };

    private static readonly Dictionary<char, string> Subjects = new()
    {
        ['1'] = "A problem with the recipient's address",
        ['2'] = "A problem with the recipient's mailbox",
        ['3'] = "A problem with the receiving mail system",
        ['4'] = "A network or routing problem",
        ['5'] = "A mail protocol problem",
        ['6'] = "The content was refused",
        ['7'] = "Refused for security or policy reasons",
    };

    /// <summary>"The mailbox does not exist" for 5.1.1; a temporary (4.x.x) code says so; null for a code that is not x.y.z.</summary>
    public static string? Describe(string status)
    {
        var parts = status.Split('.');
        if (parts.Length != 3 || parts[0] is not ("2" or "4" or "5") || parts[1].Length == 0)
            return null;
        if (parts[0] == "2")
            return "Delivered";
        var words = Details.GetValueOrDefault($"{parts[1]}.{parts[2]}")
            ?? Details.GetValueOrDefault($"{parts[1]}.0")
            ?? Subjects.GetValueOrDefault(parts[1][0])
            ?? "Delivery failed";
        return parts[0] == "4" ? $"{words} (temporary)" : words;
    }
}
