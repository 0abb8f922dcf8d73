using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using ConnectiveOne.Core.Inbound.Intake;
using ConnectiveOne.Core.Tickets;
using Xunit.Abstractions;

namespace ConnectiveOne.Tests.Reliability;

/// <summary>
/// Each OWASP vector alone through the mail sanitizer, then parsed twice the way the browser gets it (the sanitized
/// HTML is parsed, serialized into the frame's <c>srcdoc</c> and parsed again: mutation XSS lives in that round trip).
/// Nothing executable and nothing that loads from elsewhere may survive. The browser test runs the same vectors for real.
/// </summary>
[Trait("Category", "Reliability")]
[Trait("Database", "Unused")] // touches no database: runs in the SQLite pass only
public sealed class HostileHtmlSanitizerTests(ITestOutputHelper output)
{
    private static readonly HashSet<string> ForbiddenElements =
    [
        "script", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "input", "button", "textarea",
        "select", "keygen", "isindex", "base", "meta", "link", "style", "svg", "math", "template", "noscript", "xmp",
        "noembed", "noframes", "title", "bgsound", "xml", "xss", "portal",
    ];

    // Attributes that make the browser fetch something as soon as the element exists.
    private static readonly string[] LoadingAttributes = ["src", "srcset", "background", "poster", "data", "dynsrc", "lowsrc", "ping", "href"];

    [Fact]
    public void No_vector_keeps_script_handlers_or_remote_loads_after_sanitizing()
    {
        var failures = new List<string>();
        foreach (var vector in XssVectors.All)
        {
            var sanitized = HtmlBodySanitizer.Sanitize(vector.Html, _ => null).Html;
            var parser = new HtmlParser();
            var once = parser.ParseDocument("<!doctype html><body>" + sanitized);
            var twice = parser.ParseDocument("<!doctype html><body>" + once.Body!.InnerHtml);
            foreach (var problem in Problems(once).Concat(Problems(twice)).Distinct())
                failures.Add($"{vector.Id} {vector.Html}\n    -> {sanitized}\n    {problem}");
        }
        output.WriteLine($"{XssVectors.All.Count} vectors, {failures.Count} problems");
        Assert.True(XssVectors.All.Count >= 80, "the vector file should hold the cheat sheet");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void The_checks_catch_what_they_look_for()
    {
        // Without the sanitizer the same checks find most vectors, so they can fail. The rest are harmless in a browser
        // of today on their own (conditional comments, CDATA outside SVG, plain links, legacy schemes).
        var parser = new HtmlParser();
        var missed = XssVectors.All.Where(v => !Problems(parser.ParseDocument("<!doctype html><body>" + v.Html)).Any()).ToList();
        output.WriteLine($"raw vectors not flagged: {missed.Count}\n" + string.Join("\n", missed.Select(v => $"{v.Id} {v.Html}")));
        Assert.True(missed.Count <= XssVectors.All.Count / 5, $"{missed.Count} of {XssVectors.All.Count} raw vectors were not flagged");
    }

    [Fact]
    public void No_url_form_a_browser_reads_as_remote_loads_before_show_images()
    {
        const string host = "tracker.example";
        var forms = RemoteUrlForms.For(host);
        var failures = new List<string>();
        foreach (var form in forms)
        {
            var sanitized = HtmlBodySanitizer.Sanitize(form.Html, _ => null);
            var parser = new HtmlParser();
            var once = parser.ParseDocument("<!doctype html><body>" + sanitized.Html);
            var twice = parser.ParseDocument("<!doctype html><body>" + once.Body!.InnerHtml);
            foreach (var problem in Loads(once, host).Concat(Loads(twice, host)).Distinct())
                failures.Add($"{form.Id} {form.Html}\n    -> {sanitized.Html}\n    {problem}");
            var revealed = parser.ParseDocument("<!doctype html><body>" + RemoteImages.ForFrame(sanitized.Html, reveal: true).Html)
                .QuerySelectorAll("[src]").Select(e => e.GetAttribute("src")).ToList();
            string?[] expected = form.Revealed is null ? [] : [form.Revealed];
            if (!revealed.SequenceEqual(expected))
                failures.Add($"{form.Id} {form.Html}\n    -> {sanitized.Html}\n    'Show images' gives [{string.Join(", ", revealed)}], not [{form.Revealed}]");
            if (sanitized.HasRemoteImages != form.Revealed is not null)
                failures.Add($"{form.Id} {form.Html}\n    HasRemoteImages is {sanitized.HasRemoteImages}");
        }
        output.WriteLine($"{forms.Count} URL forms, {forms.Count(f => f.Revealed is not null)} of them images to show on request, {failures.Count} problems");
        Assert.True(forms.Count >= 40);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void The_url_form_check_finds_every_form_unsanitized()
    {
        // Unsanitized, every form carries the host in something that loads, so the check above can fail on each.
        const string host = "tracker.example";
        var parser = new HtmlParser();
        var missed = RemoteUrlForms.For(host).Where(f => !Loads(parser.ParseDocument("<!doctype html><body>" + f.Html), host).Any()).ToList();
        Assert.True(missed.Count == 0, "not flagged: " + string.Join(", ", missed.Select(f => $"{f.Id} {f.Html}")));
    }

    [Fact]
    public void Html_stored_before_the_fix_is_blocked_again_in_the_frame()
    {
        // What an intake that only knew http:, https: and // stored: these forms kept their src.
        const string stored = "<img src=\"/\\tracker.example/a\"><img src=\"\u0001//tracker.example/b\"><img src=\"/\t/tracker.example/c\">"
                              + "<img src=\"/files/attachments/12\" alt=\"inline\"><img src=\"/files/attachments/12?x=1\"><img src=\"relative.png\">";
        var parser = new HtmlParser();
        var (blocked, remote) = RemoteImages.ForFrame(stored, reveal: false);
        Assert.True(remote);
        Assert.Equal(["/files/attachments/12"], parser.ParseDocument(blocked).QuerySelectorAll("img[src]").Select(e => e.GetAttribute("src")));
        var shown = parser.ParseDocument(RemoteImages.ForFrame(stored, reveal: true).Html);
        Assert.Equal(["//tracker.example/a", "//tracker.example/b", "//tracker.example/c", "/files/attachments/12"],
            shown.QuerySelectorAll("img[src]").Select(e => e.GetAttribute("src")));
    }

    [Fact]
    public void Image_map_areas_open_like_links_without_an_opener()
    {
        const string html = "<map name=\"m\"><area shape=\"rect\" coords=\"0,0,9,9\" href=\"https://example.org/\" rel=\"opener\" target=\"_top\"></map>"
                            + "<a href=\"https://example.org/\" rel=\"opener\" target=\"_parent\">link</a>";
        var document = new HtmlParser().ParseDocument("<!doctype html><body>" + HtmlBodySanitizer.Sanitize(html, _ => null).Html);
        var opening = document.QuerySelectorAll("area, a").ToList();
        Assert.Equal(2, opening.Count);
        Assert.All(opening, e =>
        {
            Assert.Equal("noopener noreferrer nofollow", e.GetAttribute("rel"));
            Assert.Equal("_blank", e.GetAttribute("target"));
        });
    }

    /// <summary>
    /// Anything that would make a browser reach <paramref name="host"/> on opening: the host anywhere but in the inert
    /// <c>data-remote-src</c> or a link's <c>href</c> (which waits for a click), and any style sheet or inline style.
    /// Deliberately simpler than a URL parser: it must not share the sanitizer's reading of URLs.
    /// </summary>
    private static IEnumerable<string> Loads(IDocument document, string host)
    {
        foreach (var element in new[] { document.DocumentElement, document.Head!, document.Body! }.Concat(document.QuerySelectorAll("head *, body *")))
        {
            if (element.LocalName is "style" or "link" or "svg" or "image" or "use" or "video" or "audio" or "source" or "meta" or "base")
                yield return $"<{element.LocalName}> survived";
            foreach (var attribute in element.Attributes)
            {
                var name = attribute.LocalName.ToLowerInvariant();
                if (name == "style")
                    yield return "inline style survived";
                else if (name == HtmlBodySanitizer.RemoteSourceAttribute || (name == "href" && element.LocalName is "a" or "area"))
                    continue;
                else if (attribute.Value.Contains(host, StringComparison.OrdinalIgnoreCase))
                    yield return $"{attribute.Name}=\"{attribute.Value}\" on <{element.LocalName}> survived";
            }
            if (element.LocalName is "img" && element.GetAttribute("src") is { Length: > 0 } src && !src.StartsWith("/files/attachments/"))
                yield return $"<img src=\"{src}\"> survived";
        }
    }

    private static IEnumerable<string> Problems(IDocument document)
    {
        // <body onload> and <html …> attributes merge into the document's own elements: check those too.
        foreach (var element in new[] { document.DocumentElement, document.Body! }.Concat(document.Body!.QuerySelectorAll("*")))
        {
            var name = element.LocalName;
            if (ForbiddenElements.Contains(name))
                yield return $"<{name}> survived";
            foreach (var attribute in element.Attributes)
            {
                var attr = attribute.LocalName.ToLowerInvariant();
                var value = new string(attribute.Value.Where(c => !char.IsControl(c) && !char.IsWhiteSpace(c)).ToArray()).ToLowerInvariant();
                if (attr.StartsWith("on"))
                    yield return $"handler {attr} survived";
                if (attr is "style")
                    yield return "inline style survived";
                if (value.StartsWith("javascript:") || value.StartsWith("vbscript:") || value.StartsWith("livescript:")
                    || value.StartsWith("data:text/html") || value.StartsWith("data:image/svg"))
                    yield return $"{attr}=\"{attribute.Value}\" survived";
                // A link to the tracker only leaves when the operator clicks it; anything else would load on opening.
                if (LoadingAttributes.Contains(attr) && !(attr == "href" && name is "a")
                    && (value.StartsWith("http:") || value.StartsWith("https:") || value.StartsWith("//")))
                    yield return $"{attr}=\"{attribute.Value}\" loads on opening";
                if (attr is "formaction" or "action" or "xlink:href" or "ping")
                    yield return $"{attr} survived";
            }
        }
        foreach (var element in document.Head!.Children.Where(e => e.LocalName is "base" or "meta" or "link" or "script" or "style"))
            yield return $"<{element.LocalName}> in head survived";
    }
}
