using ConnectiveOne.Core.Inbound.Intake;
using ConnectiveOne.Core.Outbound;

namespace ConnectiveOne.Tests.Outbound;

/// <summary>Markdown to the text and HTML of an outbound mail: what renders, what is refused, and the quoted-history form.</summary>
[Trait("Database", "Unused")]
public sealed class MailBodyTests
{
    private const string Markdown = """
        Hello **Carol**, this is _important_.

        - first
        - second with [the manual](https://acme.test/manual)

        1. one
        2. two

        > You said it was on fire.

        Run `reset --all` or:

            sudo reboot
        """;

    [Fact]
    public void Bold_italics_links_lists_quotes_and_code_render_in_the_HTML()
    {
        var html = MailBody.Render(Markdown).Html;

        Assert.Contains("<strong>Carol</strong>", html);
        Assert.Contains("<em>important</em>", html);
        Assert.Contains("<ul>", html);
        Assert.Contains("<li>first</li>", html);
        Assert.Contains("<ol>", html);
        Assert.Contains("href=\"https://acme.test/manual\"", html);
        Assert.Contains("<blockquote>", html);
        Assert.Contains("<code>reset --all</code>", html);
        Assert.Contains("<pre><code>sudo reboot", html);
    }

    [Fact]
    public void The_text_is_readable_without_Markdown_marks_and_keeps_link_addresses_list_markers_and_quotes()
    {
        var text = MailBody.Render(Markdown).Text;

        Assert.Equal("""
            Hello Carol, this is important.

            - first
            - second with the manual <https://acme.test/manual>

            1. one
            2. two

            > You said it was on fire.

            Run reset --all or:

                sudo reboot
            """.ReplaceLineEndings("\n"), text);
    }

    [Fact]
    public void Raw_HTML_in_the_Markdown_is_shown_as_text_never_as_markup()
    {
        var html = MailBody.Render("Look <img src=x onerror=alert(1)> <script>alert(2)</script> [x](javascript:alert(3))").Html;

        Assert.DoesNotContain("<img", html);
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("javascript:", html);
        Assert.Contains("&lt;img src=x", html);
    }

    [Theory]
    [InlineData(Markdown)]
    [InlineData("Line one\nline two, same paragraph\n\n***\n\n# Heading\n\n<https://acme.test> and mail@acme.test & more")]
    public void The_HTML_is_already_what_the_sanitizer_makes_of_it(string markdown)
    {
        var html = MailBody.Render(markdown, "Ann <ann@acme.test>\nAcme & Co",
            new QuotedMessage(new DateTimeOffset(2026, 12, 7, 9, 15, 0, TimeSpan.FromHours(1)), "Carol <carol@customer.example>", "<b>Hi</b>\n> older")).Html;

        Assert.Equal(html, HtmlBodySanitizer.Sanitize(html, _ => null).Html);
    }

    [Fact]
    public void A_line_break_as_typed_is_a_line_break_in_both_parts()
    {
        var body = MailBody.Render("Dear Carol,\nthanks.");

        Assert.Equal("Dear Carol,\nthanks.", body.Text);
        Assert.Contains("Dear Carol,<br>", body.Html);
    }

    [Fact]
    public void The_signature_goes_under_the_separator_and_the_quote_below_it_in_the_standard_form()
    {
        var quote = new QuotedMessage(new DateTimeOffset(2026, 12, 7, 9, 15, 0, TimeSpan.FromHours(1)), "Carol <carol@customer.example>",
            "The printer is on fire.\n\n> Earlier: it smokes.");

        var body = MailBody.Render("We are **on it**.", "Ann Smith\nAcme <Support>", quote);

        Assert.Equal("""
            We are on it.

            -- 
            Ann Smith
            Acme <Support>

            On Mon, 7 Dec 2026 at 09:15, Carol <carol@customer.example> wrote:
            > The printer is on fire.
            >
            >> Earlier: it smokes.
            """.ReplaceLineEndings("\n"), body.Text);
        Assert.Contains("Ann Smith<br>Acme &lt;Support&gt;", body.Html);
        Assert.Contains("<p>On Mon, 7 Dec 2026 at 09:15, Carol &lt;carol@customer.example&gt; wrote:</p><blockquote type=\"cite\">The printer is on fire.<br><br>&gt; Earlier: it smokes.</blockquote>", body.Html);
        Assert.True(body.Html.IndexOf("Ann Smith", StringComparison.Ordinal) < body.Html.IndexOf("wrote:", StringComparison.Ordinal));
    }
}
