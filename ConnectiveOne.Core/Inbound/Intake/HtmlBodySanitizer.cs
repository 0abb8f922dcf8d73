using AngleSharp.Dom;
using Ganss.Xss;

namespace ConnectiveOne.Core.Inbound.Intake;

/// <summary>The sanitized HTML of a message and whether it refers to remote images (which are not loaded).</summary>
public sealed record SanitizedHtml(string Html, bool HasRemoteImages);

/// <summary>
/// Makes a mail's HTML safe to show inside the console: no scripts, event handlers, <c>javascript:</c> URLs,
/// forms, frames or style sheets, and no remote content loaded by merely opening the mail (tracking pixels).
/// Remote image sources move to <c>data-remote-src</c>, so the page can load them when the operator asks;
/// <c>cid:</c> references are rewritten by the caller's resolver to our own attachment URLs.
/// </summary>
public static class HtmlBodySanitizer
{
    /// <summary>Where a remote image's address goes instead of <c>src</c>.</summary>
    public const string RemoteSourceAttribute = "data-remote-src";

    /// <summary>Deeper than this (open elements, estimated) the HTML is not parsed: see <see cref="IsTooComplex"/>.</summary>
    public const int MaxNestingDepth = 400;

    /// <summary>More elements than this and the HTML is not parsed: see <see cref="IsTooComplex"/>.</summary>
    public const int MaxElements = 25_000;

    /// <summary>Shown instead of HTML that is too deeply nested or too large to sanitize in bounded time.</summary>
    public const string TooComplexNotice =
        "<p><em>This message's HTML is nested too deeply or is too large to display safely. Its plain text is shown where it has one; the original can be downloaded.</em></p>";

    // One configured instance for all: HtmlSanitizer documents Sanitize() as thread-safe when its settings are not
    // changed afterwards, and building one (tag/attribute sets, parser configuration) per message cost CPU on the
    // ingest path. Per-call state reaches the event handlers through a thread-static: Sanitize runs synchronously.
    private static readonly HtmlSanitizer Shared = Create();

    [ThreadStatic]
    private static Call? _call;

    private sealed class Call(Func<string, string?> resolveCid)
    {
        private readonly HashSet<string> _attachments = new(StringComparer.Ordinal);

        public bool Remote { get; set; }

        /// <summary>Our own URL for an inline part, "" when the message has no part with that Content-ID.</summary>
        public string Resolve(string contentId)
        {
            var url = resolveCid(Uri.UnescapeDataString(contentId).Trim('<', '>'));
            if (url is null)
                return "";
            _attachments.Add(url);
            return url;
        }

        /// <summary>Whether <paramref name="url"/> is one this call resolved from a <c>cid:</c> reference.</summary>
        public bool IsAttachment(string url) => _attachments.Contains(url);
    }

    public static SanitizedHtml Sanitize(string html, Func<string, string?> resolveCid)
    {
        // The HTML parser and sanitizer take super-linear time on deep nesting (2 MB of unclosed <div>/<b><i>/<table>
        // ran for minutes, found by the malformed-MIME fuzzing), and the MIME parse timeout does not cover them.
        if (IsTooComplex(html))
            return new SanitizedHtml(TooComplexNotice, false);
        var call = new Call(resolveCid);
        var outer = _call;
        _call = call;
        try
        {
            return new SanitizedHtml(Shared.Sanitize(html), call.Remote);
        }
        finally
        {
            _call = outer;
        }
    }

    private static HtmlSanitizer Create()
    {
        var sanitizer = new HtmlSanitizer();
        sanitizer.AllowedTags.Remove("form");
        sanitizer.AllowedTags.Remove("input");
        sanitizer.AllowedTags.Remove("button");
        sanitizer.AllowedTags.Remove("textarea");
        sanitizer.AllowedTags.Remove("select");
        sanitizer.AllowedTags.Remove("keygen"); // a form control (autofocus/onfocus vectors); nothing a mail needs
        sanitizer.AllowedTags.Remove("style");
        sanitizer.AllowedAttributes.Remove("style"); // inline CSS may load url(…) and hide or overlay parts of the page
        // Class and id carry no behaviour in a frame without scripts or the mail's CSS; they mark the quoted
        // history (gmail_quote, divRplyFwdMsg…) that the thread view folds away.
        sanitizer.AllowedAttributes.Add("class");
        sanitizer.AllowedAttributes.Add("id");
        sanitizer.AllowedAtRules.Clear();
        sanitizer.AllowedSchemes.Clear();
        foreach (var scheme in (string[])["http", "https", "mailto", "cid"])
            sanitizer.AllowedSchemes.Add(scheme);

        // Every URL is decided on the form the browser will use (see MailUrl), not on the raw text HtmlSanitizer's own
        // scheme check reads: "h\tttp://host" is a web address to a browser, "\\host/x" a protocol-relative one.
        sanitizer.FilterUrl += (_, e) =>
        {
            var url = MailUrl.Parse(e.OriginalUrl);
            e.SanitizedUrl = url.Kind switch
            {
                MailUrlKind.Cid when _call is { } call => call.Resolve(url.Value),
                MailUrlKind.Remote or MailUrlKind.Mailto or MailUrlKind.Relative => url.Value,
                _ => null,
            };
        };
        sanitizer.PostProcessNode += (_, e) =>
        {
            if (e.Node is not IElement element)
                return;
            if (element.LocalName is "a" or "area")
            {
                // Both open in a new tab from the frame; rel="opener" would hand that page the frame to navigate.
                element.SetAttribute("target", "_blank");
                element.SetAttribute("rel", "noopener noreferrer nofollow");
            }
            if (BlockLoads(element, url => _call?.IsAttachment(url) == true))
                _call?.Remote = true;
        };
        return sanitizer;
    }

    /// <summary>
    /// A linear estimate, before any parsing, of whether <paramref name="html"/> nests deeper than
    /// <see cref="MaxNestingDepth"/> or has more than <see cref="MaxElements"/> elements. Void elements and those
    /// that close themselves implicitly (p, li, td…) do not deepen it, so sloppy but ordinary mail stays far below.
    /// </summary>
    public static bool IsTooComplex(string html)
    {
        int depth = 0, elements = 0, gt = -1;
        for (var i = html.IndexOf('<'); i >= 0 && i < html.Length - 1; i = html.IndexOf('<', i + 1))
        {
            var closing = html[i + 1] == '/';
            var start = closing ? i + 2 : i + 1;
            var end = start;
            while (end < html.Length && char.IsAsciiLetterOrDigit(html[end]))
                end++;
            if (end == start || !char.IsAsciiLetter(html[start]))
                continue;
            if (closing)
            {
                depth = Math.Max(0, depth - 1);
                continue;
            }
            if (++elements > MaxElements)
                return true;
            if (gt < end && (gt = html.IndexOf('>', end)) < 0)
                break; // no tag is ever closed from here on; remembering gt keeps the scan linear
            var selfClosing = gt > 0 && html[gt - 1] == '/';
            if (!selfClosing && !NonNesting.Contains(html[start..end]) && ++depth > MaxNestingDepth)
                return true;
        }
        return false;
    }

    private static readonly HashSet<string> NonNesting = new(StringComparer.OrdinalIgnoreCase)
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
        "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "rb", "rt", "rp", "thead", "tbody", "tfoot", "colgroup",
    };

    // Attributes that make a browser fetch (or navigate to) their URL without a click, in any element a mail could
    // bring. Most never survive the allow-list; they are checked here too, so allowing a tag later cannot open a hole.
    private static readonly HashSet<string> LoadingAttributes = new(StringComparer.OrdinalIgnoreCase)
    {
        "src", "srcset", "imagesrcset", "background", "poster", "data", "dynsrc", "lowsrc", "href", "xlink:href", "action",
        "formaction", "manifest", "codebase", "archive", "icon", "ping", "profile", "style",
    };

    /// <summary>
    /// The rule for everything that loads on opening: what is left is our own URL for an inline part
    /// (<paramref name="isOwnAttachment"/>), or nothing. A remote <c>src</c> moves to <see cref="RemoteSourceAttribute"/>
    /// in its normalised form, for "Show images" (then this returns true); any other remote or relative URL goes (a
    /// relative URL in a mail points nowhere, and in the frame it would reach the console itself). Links
    /// (<c>a</c>/<c>area</c> href) wait for a click and stay.
    /// </summary>
    public static bool BlockLoads(IElement element, Func<string, bool> isOwnAttachment)
    {
        var remote = false;
        foreach (var attribute in element.Attributes.ToList())
        {
            var name = attribute.Name;
            if (!LoadingAttributes.Contains(name) || (name == "href" && element.LocalName is "a" or "area"))
                continue;
            if (name == "src" && isOwnAttachment(attribute.Value))
                continue;
            element.RemoveAttribute(name);
            if (name == "src" && MailUrl.Parse(attribute.Value) is { Kind: MailUrlKind.Remote } url)
            {
                element.SetAttribute(RemoteSourceAttribute, url.Value);
                remote = true;
            }
        }
        return remote;
    }
}
