using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using ConnectiveOne.Core.Inbound.Intake;
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
