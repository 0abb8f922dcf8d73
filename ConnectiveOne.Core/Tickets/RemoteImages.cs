using ConnectiveOne.Core.Inbound.Intake;

namespace ConnectiveOne.Core.Tickets;

/// <summary>Undoes the intake's blocking of remote images in sanitized HTML, when an operator asks to see them.</summary>
public static class RemoteImages
{
    /// <summary>Turns every <c>data-remote-src</c> (set by <see cref="HtmlBodySanitizer"/>) back into <c>src</c>.</summary>
    public static string Reveal(string sanitizedHtml)
    {
        var document = new AngleSharp.Html.Parser.HtmlParser().ParseDocument(sanitizedHtml);
        foreach (var element in document.QuerySelectorAll($"[{HtmlBodySanitizer.RemoteSourceAttribute}]"))
        {
            var url = element.GetAttribute(HtmlBodySanitizer.RemoteSourceAttribute)!;
            element.RemoveAttribute(HtmlBodySanitizer.RemoteSourceAttribute);
            // Only web addresses come back, in the form the browser reads anyway; anything else stays out.
            if (MailUrl.Parse(url) is { Kind: MailUrlKind.Remote } remote
                && Uri.TryCreate(remote.Value.StartsWith("//", StringComparison.Ordinal) ? "https:" + remote.Value : remote.Value,
                    UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.Host.Length > 0)
                element.SetAttribute("src", remote.Value);
        }
        return document.Body?.InnerHtml ?? "";
    }
}
