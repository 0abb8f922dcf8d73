using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using ConnectiveOne.Core.Inbound.Intake;
using Markdig;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace ConnectiveOne.Core.Outbound;

/// <summary>
/// A body as it goes out: readable plain text and sanitized HTML saying the same. <see cref="InlineImages"/> are the
/// Content-IDs the HTML refers to (<c>cid:</c>): those images go inline beside the HTML, the others as attachments.
/// </summary>
public sealed record ComposedBody(string Text, string Html)
{
    public IReadOnlySet<string> InlineImages { get; init; } = new HashSet<string>();
}

/// <summary>The message a reply quotes: when it was written, by whom ("Name &lt;address&gt;"), and its text.</summary>
public sealed record QuotedMessage(DateTimeOffset? Date, string Sender, string Text)
{
    /// <summary>The standard attribution line above the quote, e.g. "On Mon, 7 Dec 2026 at 09:15, Carol &lt;carol@example.com&gt; wrote:".</summary>
    public string Attribution => Date is { } date
        ? $"On {date.ToString("ddd, d MMM yyyy 'at' HH:mm", CultureInfo.InvariantCulture)}, {Sender} wrote:"
        : $"{Sender} wrote:";
}

/// <summary>
/// Pure: turns what an operator wrote (Markdown) into the body of an outbound mail. The HTML comes from Markdig with raw
/// HTML disabled (a reply cannot smuggle markup in) and then goes through <see cref="HtmlBodySanitizer"/> like every
/// mail we show; the text is the same content written for a plain-text reader (links with their address, list markers,
/// "&gt; " quotes). The console's preview uses this same method, so what the operator sees is what is sent.
/// </summary>
public static class MailBody
{
    // Line breaks as typed are line breaks in the mail (as in GitHub comments): operators write mail, not documents.
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder()
        .DisableHtml()
        .UseAutoLinks()
        .UseSoftlineBreakAsHardlineBreak()
        .Build();

    /// <summary>Image types a reply shows inline; other pasted files go as ordinary attachments.</summary>
    public static readonly IReadOnlySet<string> InlineImageTypes = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "image/png", "image/jpeg", "image/gif", "image/webp",
    };

    /// <summary>A fresh Content-ID (without angle brackets) for an image pasted into a reply, on <paramref name="domain"/>.</summary>
    public static string NewContentId(string domain) =>
        $"img-{RandomNumberGenerator.GetHexString(24, lowercase: true)}@{(string.IsNullOrWhiteSpace(domain) ? "localhost" : domain.Trim())}";

    /// <summary>
    /// Null when <paramref name="contentId"/> is one <see cref="NewContentId"/> could have made (letters, digits, '.', '-',
    /// '_' around one '@'): such an id reads the same in Markdown, in the HTML and in the Content-ID header. Else why not.
    /// </summary>
    public static string? ContentIdProblem(string contentId) =>
        contentId.Length is > 0 and <= 200 && contentId.Count(c => c == '@') == 1 && contentId[0] != '@' && contentId[^1] != '@'
        && contentId.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '@')
            ? null
            : $"\"{contentId}\" is not a usable Content-ID for an inline image (letters, digits, '.', '-' and '_' around one '@').";

    /// <summary>
    /// The body of a reply: the Markdown, then the signature under the usual "-- " separator (RFC 3676 §4.3), then the
    /// quoted message when given, in the standard "On …, … wrote:" form (<c>&gt; </c> lines in text, a blockquote in HTML).
    /// <c>cid:</c> references to <paramref name="inlineImages"/> (the Content-IDs of the reply's own images) stay in the
    /// HTML; any other <c>cid:</c> points at nothing this mail carries and is dropped like any unknown source.
    /// </summary>
    public static ComposedBody Render(string? markdown, string? signature = null, QuotedMessage? quote = null,
        IReadOnlyCollection<string>? inlineImages = null)
    {
        var document = Markdown.Parse(markdown ?? "", Pipeline);
        var text = new StringBuilder(PlainText.Of(document).TrimEnd());
        var html = new StringBuilder(document.ToHtml(Pipeline));
        if (!string.IsNullOrWhiteSpace(signature))
        {
            text.Append("\n\n-- \n").Append(signature.TrimEnd());
            html.Append("<div class=\"c1-signature\"><p>-- <br>").Append(LinesToHtml(signature.TrimEnd())).Append("</p></div>");
        }
        if (quote is not null)
        {
            var quoted = quote.Text.ReplaceLineEndings("\n").TrimEnd();
            text.Append("\n\n").Append(quote.Attribution).Append('\n')
                .AppendJoin('\n', quoted.Split('\n').Select(line => line.Length == 0 ? ">" : line.StartsWith('>') ? ">" + line : "> " + line));
            // The classes the thread view (QuotedText) and common clients know as quoted history, so both fold it.
            html.Append("<div class=\"gmail_quote\"><p>").Append(WebUtility.HtmlEncode(quote.Attribution)).Append("</p><blockquote type=\"cite\">")
                .Append(LinesToHtml(quoted)).Append("</blockquote></div>");
        }
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        var sanitized = HtmlBodySanitizer.Sanitize(html.ToString(), OwnImages(inlineImages ?? [], referenced)).Html;
        return new ComposedBody(text.ToString().TrimStart('\n'), sanitized) { InlineImages = referenced };
    }

    /// <summary>
    /// The sanitizer's <c>cid:</c> resolver for our own outgoing HTML: a reference to one of <paramref name="inlineImages"/>
    /// stays <c>cid:</c> (and is noted in <paramref name="referenced"/> when given); any other is dropped. With it, the HTML
    /// of a reply passes the sanitizer unchanged.
    /// </summary>
    public static Func<string, string?> OwnImages(IReadOnlyCollection<string> inlineImages, ISet<string>? referenced = null) => cid =>
    {
        if (!inlineImages.Contains(cid, StringComparer.Ordinal))
            return null;
        referenced?.Add(cid);
        return "cid:" + cid;
    };

    private static string LinesToHtml(string text) =>
        string.Join("<br>", text.ReplaceLineEndings("\n").Split('\n').Select(WebUtility.HtmlEncode));

    /// <summary>Markdown's syntax tree written out as plain text a person reads comfortably.</summary>
    private static class PlainText
    {
        public static string Of(MarkdownDocument document)
        {
            var output = new StringBuilder();
            Blocks(document, output, tight: false);
            return output.ToString();
        }

        private static void Blocks(ContainerBlock container, StringBuilder output, bool tight)
        {
            var first = true;
            foreach (var block in container)
            {
                if (block is LinkReferenceDefinitionGroup or BlankLineBlock)
                    continue;
                var rendered = Block(block);
                if (rendered.Length == 0)
                    continue;
                if (!first)
                    output.Append(tight ? "\n" : "\n\n");
                output.Append(rendered);
                first = false;
            }
        }

        private static string Block(Block block)
        {
            switch (block)
            {
                case CodeBlock code:
                    return string.Join('\n', code.Lines.Lines.Take(code.Lines.Count).Select(l => "    " + l.Slice.ToString()));
                case LeafBlock { Inline: { } inline }:
                    return Inlines(inline);
                case ThematicBreakBlock:
                    return "----------";
                case QuoteBlock quote:
                    return Prefixed(Children(quote, tight: false), "> ", "> ").Replace("> \n", ">\n");
                case ListBlock list:
                {
                    var items = new List<string>();
                    var number = int.TryParse(list.OrderedStart, out var start) ? start : 1;
                    foreach (var item in list.OfType<ListItemBlock>())
                    {
                        var marker = list.IsOrdered ? $"{number++}. " : "- ";
                        items.Add(Prefixed(Children(item, list.IsLoose is false), marker, new string(' ', marker.Length)));
                    }
                    return string.Join(list.IsLoose ? "\n\n" : "\n", items);
                }
                case ContainerBlock other:
                    return Children(other, tight: false);
                default:
                    return "";
            }
        }

        private static string Children(ContainerBlock container, bool tight)
        {
            var output = new StringBuilder();
            Blocks(container, output, tight);
            return output.ToString();
        }

        private static string Prefixed(string text, string first, string rest) =>
            string.Join('\n', text.Split('\n').Select((line, i) => (i == 0 ? first : line.Length == 0 ? "" : rest) + line));

        private static string Inlines(ContainerInline container)
        {
            var output = new StringBuilder();
            foreach (var inline in container)
            {
                switch (inline)
                {
                    case LinkInline { IsImage: true } image:
                        output.Append("[image: ").Append(Inlines(image)).Append(']');
                        break;
                    case LinkInline link:
                        var label = Inlines(link);
                        var url = link.GetDynamicUrl?.Invoke() ?? link.Url ?? "";
                        output.Append(label);
                        // The address after the words, as people write links in plain text; once when they are the same.
                        if (url.Length > 0 && !SameAddress(label, url))
                            output.Append(" <").Append(url).Append('>');
                        break;
                    case AutolinkInline auto:
                        output.Append(auto.Url);
                        break;
                    case CodeInline code:
                        output.Append(code.Content);
                        break;
                    case LineBreakInline:
                        output.Append('\n');
                        break;
                    case HtmlEntityInline entity:
                        output.Append(entity.Transcoded.ToString());
                        break;
                    case LiteralInline literal:
                        output.Append(literal.Content.ToString());
                        break;
                    case ContainerInline children:
                        output.Append(Inlines(children));
                        break;
                }
            }
            return output.ToString();
        }

        private static bool SameAddress(string label, string url) =>
            string.Equals(label, url, StringComparison.OrdinalIgnoreCase)
            || url.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase) && string.Equals(label, url[7..], StringComparison.OrdinalIgnoreCase)
            || url.IndexOf("://", StringComparison.Ordinal) is > 0 and var scheme
            && string.Equals(label, url[(scheme + 3)..].TrimEnd('/'), StringComparison.OrdinalIgnoreCase);
    }
}
