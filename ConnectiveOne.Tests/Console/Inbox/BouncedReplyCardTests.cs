using Bunit;
using ConnectiveOne.Console.Features.Inbox;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.TestSupport;

namespace ConnectiveOne.Tests.Console.Inbox;

[Trait("Database", "Unused")] // touches no database: runs in the SQLite pass only
public sealed class BouncedReplyCardTests : MudTestContext
{
    private static TicketMessageView Reply(string delivery, string? detail, string? bouncedRecipient) =>
        new(9, "Outbound", "support@acme.test", null, "carol@customer.example", null, "Re: Hello [#1]", "t1-x@inbound.test", null, null,
            DateTimeOffset.Parse("2026-12-07T10:00:00Z"), "We fixed it.", null, false, [], null, delivery, detail, 100, [])
        {
            BouncedRecipient = bouncedRecipient,
        };

    [Fact]
    public void A_bounced_reply_shows_the_diagnostic_and_the_recipient()
    {
        var card = Render<MessageCard>(p => p.Add(c => c.Message,
            Reply("Bounced", "The mailbox does not exist (5.1.1): 550 5.1.1 User unknown", "carol@customer.example")));
        Assert.Contains("Bounced", card.Find("[data-testid='delivery']").TextContent);
        Assert.Equal("Bounced: The mailbox does not exist (5.1.1): 550 5.1.1 User unknown (carol@customer.example)",
            Normalize(card.Find("[data-testid='bounced']").TextContent));
    }

    [Fact]
    public void A_sent_reply_shows_no_bounce()
    {
        var card = Render<MessageCard>(p => p.Add(c => c.Message, Reply("Sent", "250 OK", null)));
        Assert.Empty(card.FindAll("[data-testid='bounced']"));
    }

    private static string Normalize(string text) => string.Join(' ', text.Split((char[])[' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries));
}
