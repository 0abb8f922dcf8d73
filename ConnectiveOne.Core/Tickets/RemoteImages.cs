using ConnectiveOne.Core.Inbound.Intake;

namespace ConnectiveOne.Core.Tickets;

/// <summary>Sanitized message HTML as the console's mail frame gets it: remote images blocked, or shown on request.</summary>
public static class RemoteImages
{
    private const string AttachmentPath = "/files/attachments/";

    /// <summary>
    /// Applies <see cref="HtmlBodySanitizer.BlockLoads"/> again (HTML stored by an older intake may still hold a
    /// remote URL in a form that intake did not recognise), then, when <paramref name="reveal"/>, turns every
    /// <c>data-remote-src</c> back into <c>src</c>. <c>HasRemoteImages</c>: there is an image to show on request.
    /// </summary>
    public static (string Html, bool HasRemoteImages) ForFrame(string sanitizedHtml, bool reveal)
    {
        var document = new AngleSharp.Html.Parser.HtmlParser().ParseDocument(sanitizedHtml);
        foreach (var element in document.Body!.QuerySelectorAll("*"))
            HtmlBodySanitizer.BlockLoads(element, IsAttachment);
        var remote = document.QuerySelectorAll($"[{HtmlBodySanitizer.RemoteSourceAttribute}]");
        if (!reveal)
            return (document.Body.InnerHtml, remote.Length > 0);
        foreach (var element in remote)
        {
            var url = element.GetAttribute(HtmlBodySanitizer.RemoteSourceAttribute)!;
            element.RemoveAttribute(HtmlBodySanitizer.RemoteSourceAttribute);
            // Only web addresses come back, in the form the browser reads anyway; anything else stays out.
            if (MailUrl.Parse(url) is { Kind: MailUrlKind.Remote } web
                && Uri.TryCreate(web.Value.StartsWith("//", StringComparison.Ordinal) ? "https:" + web.Value : web.Value,
                    UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.Host.Length > 0)
                element.SetAttribute("src", web.Value);
        }
        return (document.Body.InnerHtml, remote.Length > 0);
    }

    /// <summary>Where intake points an inline <c>cid:</c> image once its attachment is stored.</summary>
    private static bool IsAttachment(string url) =>
        url.StartsWith(AttachmentPath, StringComparison.Ordinal) && url.Length > AttachmentPath.Length
        && url.AsSpan(AttachmentPath.Length).IndexOfAnyExceptInRange('0', '9') < 0;
}
