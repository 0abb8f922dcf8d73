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

    public static SanitizedHtml Sanitize(string html, Func<string, string?> resolveCid)
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

        var remote = false;
        sanitizer.FilterUrl += (_, e) =>
        {
            if (e.OriginalUrl.StartsWith("cid:", StringComparison.OrdinalIgnoreCase))
                e.SanitizedUrl = resolveCid(Uri.UnescapeDataString(e.OriginalUrl[4..]).Trim('<', '>')) ?? "";
        };
        sanitizer.PostProcessNode += (_, e) =>
        {
            if (e.Node is not IElement element)
                return;
            if (element.LocalName is "a")
            {
                element.SetAttribute("target", "_blank");
                element.SetAttribute("rel", "noopener noreferrer nofollow");
            }
            foreach (var name in (string[])["src", "background", "srcset", "poster"])
            {
                var value = element.GetAttribute(name);
                if (value is null || !IsRemote(value))
                    continue;
                element.RemoveAttribute(name);
                if (name == "src")
                    element.SetAttribute(RemoteSourceAttribute, value);
                remote = true;
            }
        };
        var result = sanitizer.Sanitize(html);
        return new SanitizedHtml(result, remote);
    }

    private static bool IsRemote(string url)
    {
        var u = url.TrimStart();
        return u.StartsWith("http:", StringComparison.OrdinalIgnoreCase) || u.StartsWith("https:", StringComparison.OrdinalIgnoreCase)
            || u.StartsWith("//", StringComparison.Ordinal);
    }
}
