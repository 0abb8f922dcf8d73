using ConnectiveOne.Core.Inbound.Intake;
using ConnectiveOne.Core.Outbound;
using MimeKit;

namespace ConnectiveOne.Tests.Outbound;

/// <summary>
/// Images pasted into a reply (issue #14, rich replies): the one the Markdown refers to goes inline, by <c>cid:</c>, in
/// multipart/related beside the HTML; the one it does not refer to stays an ordinary attachment. Read back with MimeKit.
/// </summary>
[Trait("Database", "Unused")]
public sealed class InlineImageTests
{
    private static readonly byte[] Screenshot = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 0, 255, 254, 13, 10, 42];
    private static readonly byte[] Unreferenced = [0x89, 0x50, 0x4E, 0x47, 9, 8, 7];

    [Fact]
    public void A_referred_image_goes_inline_by_cid_and_an_unreferred_one_stays_an_attachment()
    {
        var shown = MailBody.NewContentId("in.acme.test");
        var notShown = MailBody.NewContentId("in.acme.test");
        var body = MailBody.Render($"Here it is:\n\n![screen shot.png](cid:{shown})\n\nThanks", "Ada", null, [shown, notShown]);
        Assert.Equal([shown], body.InlineImages);

        var message = new MimeMessage { Subject = "Re: x" };
        message.From.Add(MailboxAddress.Parse("support@acme.test"));
        message.Body = OutboundComposer.BuildBody(body,
        [
            new ReplyAttachment("screen shot.png", "image/png", Screenshot, shown),
            new ReplyAttachment("other.png", "image/png", Unreferenced, notShown),
            new ReplyAttachment("invoice.pdf", "application/pdf", [1, 2, 3]),
        ]);
        using var wire = new MemoryStream();
        message.WriteTo(wire);
        wire.Position = 0;
        var parsed = MimeMessage.Load(wire);

        // mixed(alternative(text, related(html, image)), attachments), the structure mail clients expect.
        var mixed = Assert.IsType<Multipart>(parsed.Body);
        Assert.Equal("multipart/mixed", mixed.ContentType.MimeType);
        var alternative = Assert.IsType<MultipartAlternative>(mixed[0]);
        Assert.Equal("text/plain", alternative[0].ContentType.MimeType);
        var related = Assert.IsType<MultipartRelated>(alternative[1]);
        var html = Assert.IsType<TextPart>(related.Root);
        Assert.Equal("text/html", html.ContentType.MimeType);
        var image = Assert.IsType<MimePart>(Assert.Single(related, p => !ReferenceEquals(p, related.Root)));
        Assert.Equal(shown, image.ContentId);
        Assert.Equal("image/png", image.ContentType.MimeType);
        Assert.Equal(Screenshot, Decode(image));
        Assert.Contains($"src=\"cid:{shown}\"", html.Text);
        Assert.Contains("alt=\"screen shot.png\"", html.Text);
        Assert.DoesNotContain(notShown, html.Text);
        // The HTML of our own mail passes the sanitizer unchanged once its own images count as its own.
        Assert.Equal(html.Text, HtmlBodySanitizer.Sanitize(html.Text, MailBody.OwnImages([shown, notShown])).Html);

        var attachments = mixed.Skip(1).Cast<MimePart>().ToList();
        Assert.Equal(["other.png", "invoice.pdf"], attachments.Select(a => a.FileName));
        Assert.All(attachments, a => Assert.True(a.IsAttachment));
        Assert.Equal(Unreferenced, Decode(attachments[0]));
        Assert.Contains("[image: screen shot.png]", parsed.TextBody);
    }

    [Fact]
    public void A_cid_that_is_none_of_the_replys_images_is_dropped_and_no_related_part_is_made()
    {
        var body = MailBody.Render("![x](cid:someone-elses@example.test)\n\n[y](cid:other@example.test)", inlineImages: ["mine@acme.test"]);
        Assert.Empty(body.InlineImages);
        Assert.DoesNotContain("cid:", body.Html);

        // The image the text does not show still goes along, as an ordinary attachment.
        var message = new MimeMessage { Body = OutboundComposer.BuildBody(body, [new ReplyAttachment("mine.png", "image/png", Screenshot, "mine@acme.test")]) };
        var types = new List<string>();
        using var parts = new MimeIterator(message);
        while (parts.MoveNext())
            types.Add(parts.Current.ContentType.MimeType);
        Assert.Equal(["multipart/mixed", "multipart/alternative", "text/plain", "text/html", "image/png"], types);
        Assert.True(message.Attachments.Single().IsAttachment);
    }

    [Theory]
    [InlineData("img-0a1b@in.acme.test", true)]
    [InlineData("a\"b@c", false)]
    [InlineData("a b@c", false)]
    [InlineData("no-at-sign", false)]
    [InlineData("a@b@c", false)]
    [InlineData("a@b>\r\nBcc: x@y", false)]
    public void A_Content_ID_is_accepted_only_in_the_form_that_reads_the_same_in_Markdown_HTML_and_header(string id, bool usable) =>
        Assert.Equal(usable, MailBody.ContentIdProblem(id) is null);

    private static byte[] Decode(MimePart part)
    {
        using var bytes = new MemoryStream();
        part.Content!.DecodeTo(bytes);
        return bytes.ToArray();
    }
}
