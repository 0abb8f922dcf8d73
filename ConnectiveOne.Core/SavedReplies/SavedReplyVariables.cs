using System.Text.RegularExpressions;

namespace ConnectiveOne.Core.SavedReplies;

/// <summary>What the variables of a saved reply stand for on one ticket, for one operator. Null when unknown.</summary>
public sealed record SavedReplyValues(string? CustomerName, string CustomerEmail, long TicketNumber, string? OperatorName, string? AddressName);

/// <summary>
/// Fills <c>{customer.name}</c>, <c>{customer.firstName}</c>, <c>{ticket.number}</c>, <c>{operator.name}</c> and
/// <c>{address.name}</c>. A value that is not known becomes words that still read well in a greeting ("Hello there"),
/// never an empty gap or the raw placeholder. Unknown names in braces are left as they are (they may be meant).
/// </summary>
public static partial class SavedReplyVariables
{
    public static readonly IReadOnlyList<(string Name, string Means)> All =
    [
        ("{customer.name}", "the customer's name (their address when the name is unknown)"),
        ("{customer.firstName}", "the customer's first name (\"there\" when unknown, as in \"Hello there\")"),
        ("{ticket.number}", "the ticket number, e.g. 42"),
        ("{operator.name}", "your name"),
        ("{address.name}", "the name of the address the reply goes from"),
    ];

    public static string Fill(string text, SavedReplyValues values) => Variable().Replace(text, m => m.Groups[1].Value switch
    {
        "customer.name" => Clean(values.CustomerName) ?? values.CustomerEmail,
        "customer.firstName" => FirstName(values.CustomerName) ?? "there",
        "ticket.number" => values.TicketNumber.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "operator.name" => Clean(values.OperatorName) ?? "our team",
        "address.name" => Clean(values.AddressName) ?? "our team",
        _ => m.Value,
    });

    /// <summary>
    /// The first name from a display name: "Carla Customer" → Carla, "Customer, Carla" → Carla (the surname-first form
    /// mail clients write); null when there is no name, or the "name" is only an address.
    /// </summary>
    public static string? FirstName(string? displayName)
    {
        var name = Clean(displayName);
        if (name is null || name.Contains('@'))
            return null;
        var comma = name.IndexOf(',');
        if (comma > 0 && comma < name.Length - 1)
            name = name[(comma + 1)..].Trim();
        return name.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
    }

    // Mail often names a person in quotes ("'Carla Customer'") or leaves only spaces.
    private static string? Clean(string? value)
    {
        var trimmed = value?.Trim().Trim('"', '\'').Trim();
        return string.IsNullOrEmpty(trimmed) ? null : trimmed;
    }

    [GeneratedRegex(@"\{([a-zA-Z]+\.[a-zA-Z]+)\}")]
    private static partial Regex Variable();
}
