using ConnectiveOne.Core.Tickets;

namespace ConnectiveOne.Tests.Tickets;

[Trait("Database", "Unused")]
public sealed class MessagePreviewTests
{
    [Theory]
    [InlineData("Hello,\n\nmy order   has not arrived.", null, "Hello, my order has not arrived.")]
    [InlineData("Thanks!\n\nOn Mon, 7 Dec 2026 at 10:00, Support <support@acme.test> wrote:\n> Your order shipped", null, "Thanks!")]
    [InlineData("Fine.\n\n-----Original Message-----\nFrom: Support", null, "Fine.")]
    [InlineData(null, "<p>The <b>printer</b> is&nbsp;broken.</p><div class=\"gmail_quote\">On Mon, Support wrote:<blockquote>Earlier</blockquote></div>", "The printer is broken.")]
    [InlineData("   \n ", "<p>From the HTML</p>", "From the HTML")]
    [InlineData("", "", null)]
    [InlineData(null, null, null)]
    public void The_preview_is_the_new_words_on_one_line(string? text, string? html, string? expected) =>
        Assert.Equal(expected, MessagePreview.Of(text, html));

    [Fact]
    public void A_long_body_is_cut_at_the_maximum_with_an_ellipsis()
    {
        var preview = MessagePreview.Of(string.Join(' ', Enumerable.Repeat("word", 500)), null)!;
        Assert.Equal(MessagePreview.MaxLength, preview.Length);
        Assert.EndsWith("…", preview);
    }
}
