using ConnectiveOne.Core.SavedReplies;

namespace ConnectiveOne.Tests.SavedReplies;

/// <summary>Variables are filled from the ticket and the operator; a value that is missing becomes words, never a gap or the placeholder.</summary>
[Trait("Database", "Unused")]
public sealed class SavedReplyVariablesTests
{
    private static readonly SavedReplyValues Known = new("Carla Customer", "carla@customer.test", 42, "Bob Operator", "Acme Support");

    public static TheoryData<string, string> Filled => new()
    {
        { "Hello {customer.firstName},", "Hello Carla," },
        { "Dear {customer.name}", "Dear Carla Customer" },
        { "Ticket #{ticket.number}", "Ticket #42" },
        { "{operator.name} for {address.name}", "Bob Operator for Acme Support" },
        { "{customer.firstName} {customer.firstName}", "Carla Carla" },
        // Not ours: left for the reader (a code sample, a template of the customer's).
        { "Use {user.id} and {braces}", "Use {user.id} and {braces}" },
        { "**Bold** stays _Markdown_", "**Bold** stays _Markdown_" },
    };

    [Theory]
    [MemberData(nameof(Filled))]
    public void Fills_each_variable_from_the_ticket_and_the_operator(string text, string expected) =>
        Assert.Equal(expected, SavedReplyVariables.Fill(text, Known));

    public static TheoryData<string?, string, string> Missing => new()
    {
        // name, text, filled
        { null, "Hello {customer.firstName},", "Hello there," },
        { "  ", "Hello {customer.firstName},", "Hello there," },
        { null, "Dear {customer.name}", "Dear carla@customer.test" },
        { "carla@customer.test", "Hello {customer.firstName},", "Hello there," },
        { "Customer, Carla", "Hello {customer.firstName},", "Hello Carla," },
        { "'Carla Customer'", "Hello {customer.firstName},", "Hello Carla," },
        { "\"Carla\"", "Dear {customer.name}", "Dear Carla" },
    };

    [Theory]
    [MemberData(nameof(Missing))]
    public void A_missing_or_odd_customer_name_falls_back_to_words_that_read_well(string? name, string text, string expected) =>
        Assert.Equal(expected, SavedReplyVariables.Fill(text, Known with { CustomerName = name }));

    [Fact]
    public void A_missing_operator_or_address_name_reads_as_our_team()
    {
        var values = Known with { OperatorName = null, AddressName = " " };
        Assert.Equal("Regards, our team (our team)", SavedReplyVariables.Fill("Regards, {operator.name} ({address.name})", values));
    }

    [Fact]
    public void Every_listed_variable_is_filled()
    {
        foreach (var (name, _) in SavedReplyVariables.All)
            Assert.DoesNotContain("{", SavedReplyVariables.Fill(name, Known));
    }
}
