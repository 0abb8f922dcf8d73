using Bunit;
using ConnectiveOne.Console.Features.Inbox;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.TestSupport;

namespace ConnectiveOne.Tests.Console.Inbox;

[Trait("Database", "Unused")] // touches no database: runs in the SQLite pass only
public sealed class MessageCardTests : MudTestContext
{
    private static TicketMessageView Message(string? text = null, string? html = null, bool remote = false, string direction = "Inbound",
        string? delivery = null, string? deliveryDetail = null, IReadOnlyList<string>? flags = null, IReadOnlyList<AttachmentInfo>? attachments = null) =>
        new(7, direction, "carla@customer.test", "Carla", "support@acme.test", null, "Hello", "m1@customer.test", null, null,
            DateTimeOffset.Parse("2026-11-27T10:00:00Z"), text, html, remote, flags ?? [], null, delivery, deliveryDetail, 100,
            attachments ?? []);

    [Fact]
    public void Html_is_shown_in_a_sandboxed_frame_without_remote_images_until_asked()
    {
        var card = Render<MessageCard>(p => p.Add(c => c.Message,
            Message(html: "<p>Hi</p><img data-remote-src=\"https://tracker.example/p.gif\">", remote: true)));
        var frame = card.Find("iframe.c1-mail-frame");
        Assert.Equal("allow-same-origin allow-popups allow-popups-to-escape-sandbox", frame.GetAttribute("sandbox"));
        Assert.DoesNotContain("<img src=\"https://tracker.example", frame.GetAttribute("srcdoc"));

        card.Find("[data-testid='show-images'] button, button[data-testid='show-images']").Click();
        Assert.Contains("<img src=\"https://tracker.example/p.gif\"", card.Find("iframe.c1-mail-frame").GetAttribute("srcdoc"));
        Assert.Empty(card.FindAll("[data-testid='remote-images']"));
    }

    [Fact]
    public void Html_stored_by_the_older_intake_gets_its_remote_images_blocked_in_the_frame()
    {
        // The older intake kept src for forms it did not see as remote, and did not set the flag.
        var card = Render<MessageCard>(p => p.Add(c => c.Message,
            Message(html: "<p>Hi</p><img src=\"/\\tracker.example/p.gif\"><img src=\"/files/attachments/7\" alt=\"inline\">", remote: false)));
        var srcdoc = card.Find("iframe.c1-mail-frame").GetAttribute("srcdoc")!;
        Assert.DoesNotContain("src=\"/\\tracker.example", srcdoc);
        Assert.Contains("<img src=\"/files/attachments/7\"", srcdoc);

        card.Find("[data-testid='show-images'] button, button[data-testid='show-images']").Click();
        Assert.Contains("<img src=\"//tracker.example/p.gif\"", card.Find("iframe.c1-mail-frame").GetAttribute("srcdoc"));
    }

    [Fact]
    public void Plain_text_folds_the_quoted_history()
    {
        var card = Render<MessageCard>(p => p.Add(c => c.Message,
            Message(text: "Thanks, that works.\n\nOn Mon, 2 Apr 2012, Support <s@acme.test> wrote:\n> Try turning it off and on.")));
        Assert.Equal("Thanks, that works.", card.Find(".c1-mail-text").TextContent);
        Assert.Contains("Try turning it off", card.Find("[data-testid='quoted']").TextContent);
    }

    [Fact]
    public void Our_replies_show_delivery_and_the_relays_words_when_they_failed()
    {
        var card = Render<MessageCard>(p => p.Add(c => c.Message,
            Message(text: "Done.", direction: "Outbound", delivery: "Failed", deliveryDetail: "550 5.1.1 No such user")));
        Assert.Contains("Failed", card.Find("[data-testid='delivery']").TextContent);
        Assert.Contains("550 5.1.1 No such user", card.Markup);
    }

    [Fact]
    public void Flags_and_attachments_are_listed_with_size_type_and_a_download_link()
    {
        var card = Render<MessageCard>(p => p.Add(c => c.Message, Message(text: "I am away.", flags: ["AutoReply", "Bounce"],
            attachments: [new AttachmentInfo(41, "report.pdf", "application/pdf", 2_500_000, new string('a', 64), null, false)])));
        var flags = card.FindAll("[data-testid='message-flag']").Select(f => f.TextContent.Trim()).ToList();
        Assert.Equal(["Auto-reply", "Bounce"], flags);
        var attachment = card.Find("[data-testid='attachment']");
        Assert.Equal("/files/attachments/41?download=1", attachment.GetAttribute("href"));
        Assert.Contains("2.4 MB", attachment.TextContent);
        Assert.Contains("application/pdf", attachment.TextContent);
    }
}
