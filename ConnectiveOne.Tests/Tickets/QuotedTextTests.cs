using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.TestSupport;
using MimeKit;

namespace ConnectiveOne.Tests.Tickets;

[Trait("Database", "Unused")] // touches no database: runs in the SQLite pass only
public sealed class QuotedTextTests
{
    [Theory]
    [InlineData("Thanks!\n\nOn Mon, Apr 2, 2012 at 6:26 PM, Megan <m@example.com> wrote:\n> Hi", "Thanks!")]
    [InlineData("Danke\n\nAm 02.04.2012 um 18:26 schrieb Megan <m@example.com>:\n> Hallo", "Danke")]
    [InlineData("See below\n\n-----Original Message-----\nFrom: Bob\nSent: today", "See below")]
    [InlineData("Yes.\n\n> Can you?\n> Please.\n", "Yes.")]
    [InlineData("Gmail wraps long attributions\nOn Mon, Apr 2, 2012 at 6:26 PM, Megan One Very Long Name\n<m@example.com> wrote:\n> Hi", "Gmail wraps long attributions")]
    public void Text_replies_split_at_the_quote(string body, string reply)
    {
        var split = QuotedText.SplitText(body);
        Assert.Equal(reply, split.Reply);
        Assert.NotNull(split.Quoted);
    }

    [Theory]
    [InlineData("Just a message.\nWith two lines.")]
    [InlineData("> all of it is quoted\n> nothing new")]
    [InlineData("I think > is greater than <, as in a > b.")]
    public void Text_without_a_reply_quote_stays_whole(string body)
    {
        var split = QuotedText.SplitText(body);
        Assert.Equal(body, split.Reply);
        Assert.Null(split.Quoted);
    }

    [Fact]
    public void Html_replies_split_at_the_quote_container_and_stay_well_formed()
    {
        var split = QuotedText.SplitHtml(
            "<p>Hello</p><div class=\"gmail_quote\">On Mon wrote:<blockquote class=\"gmail_quote\">Hi</blockquote></div><p>tail</p>");
        Assert.Equal("<p>Hello</p>", split.Reply);
        Assert.StartsWith("<div class=\"gmail_quote\">", split.Quoted);
        Assert.EndsWith("<p>tail</p>", split.Quoted);
    }

    /// <summary>Real replies from the common clients (talon's fixtures): the new words are kept, the history folded.</summary>
    [Theory]
    [InlineData("iphone.eml", "iphone_reply_text")]
    [InlineData("sparrow.eml", "sparrow_reply_text")]
    public void Corpus_replies_give_the_expected_reply_text(string message, string expected)
    {
        var text = MimeMessage.Load(Corpus.PathOf("replies/talon/" + message)).TextBody ?? "";
        var split = QuotedText.SplitText(text);
        Assert.Equal(Normalize(File.ReadAllText(Corpus.PathOf("replies/talon/" + expected))), Normalize(split.Reply));
        Assert.NotNull(split.Quoted);
    }

    [Fact]
    public void Every_corpus_reply_has_its_history_folded_in_text_or_html()
    {
        var files = Directory.GetFiles(Corpus.PathOf("replies/talon"), "*.eml");
        var folded = files.Where(f =>
        {
            var message = MimeMessage.Load(f);
            return (message.TextBody is { } text && QuotedText.SplitText(text).Quoted is not null)
                   || (message.HtmlBody is { } html && QuotedText.SplitHtml(html).Quoted is not null);
        }).Select(Path.GetFileName).ToList();
        var missed = files.Select(Path.GetFileName).Except(folded).ToList();
        Assert.True(missed.Count <= 1, "history not found in: " + string.Join(", ", missed));
    }

    private static string Normalize(string s) => string.Join('\n', s.Replace("\r\n", "\n").Trim().Split('\n').Select(l => l.TrimEnd()));
}
