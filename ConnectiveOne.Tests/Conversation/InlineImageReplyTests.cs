using System.Net.Http.Json;
using System.Text.Json;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Inbound.Intake;
using ConnectiveOne.Core.Outbound;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;

namespace ConnectiveOne.Tests.Conversation;

/// <summary>
/// Issue #14, images pasted into a reply, end to end: the customer's mail comes in over SMTP, the reply with one image the
/// Markdown shows and one it does not goes through the app's reply service and outbox to a capture relay, whose copy is read.
/// </summary>
[RunsLong(20)]
public sealed class InlineImageReplyTests : IAsyncLifetime
{
    private static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAYAAABytg0kAAAAFklEQVR4nGP8z8Dwn4GBgYGJgYGBAQAkBgMBg1mZ7QAAAABJRU5ErkJggg==");

    private CaptureRelay _relay = null!;
    private InboundApp _inbound = null!;
    private TestApp App => _inbound.App;

    public async Task InitializeAsync()
    {
        _relay = await CaptureRelay.StartAsync();
        _inbound = ConversationApp.Start(_relay);
    }

    public async Task DisposeAsync()
    {
        await _inbound.DisposeAsync();
        await _relay.DisposeAsync();
    }

    [Fact]
    public async Task The_image_the_reply_shows_goes_inline_by_cid_the_other_as_an_attachment_and_the_thread_shows_it_from_our_own_URL()
    {
        var address = await MailSeed.AddressAsync(App, "support@acme.test", DomainStatus.Verified);
        await _inbound.SendAsync(new MimeMessage
        {
            From = { new MailboxAddress("Carol Customer", "carol@customer.example") },
            To = { MailboxAddress.Parse("support@acme.test") },
            Subject = "Which cable?",
            MessageId = "cable@customer.example",
            Body = new TextPart("plain") { Text = "Which cable do I need?" },
        }, address.TechnicalAddress);
        long ticketId;
        await using (var db = App.Database.OpenContext())
            ticketId = await db.Messages.Where(m => m.MessageIdHeader == "cable@customer.example").Select(m => m.TicketId).SingleAsync();
        var shown = MailBody.NewContentId(MailSeed.InboundDomain);
        var notShown = MailBody.NewContentId(MailSeed.InboundDomain);
        var other = Png.Concat(new byte[] { 1, 2, 3 }).ToArray();

        await using (var scope = App.Services.CreateAsyncScope())
        {
            var replies = scope.ServiceProvider.GetRequiredService<ReplyService>();
            // A Content-ID that could not be written the same in the HTML and the header is refused in words; nothing is queued.
            var refused = await replies.QueueReplyAsync(ticketId, "![x](cid:a b@c)", [new ReplyAttachment("x.png", "image/png", Png, "a b@c")], null);
            Assert.Equal("\"a b@c\" is not a usable Content-ID for an inline image (letters, digits, '.', '-' and '_' around one '@').", refused.Error);
            var queued = await replies.QueueReplyAsync(ticketId, $"This one:\n\n![cable.png](cid:{shown})",
            [
                new ReplyAttachment("cable.png", "image/png", Png, shown),
                new ReplyAttachment("other.png", "image/png", other, notShown),
            ], null);
            Assert.Null(queued.Error);
        }

        var sent = (await _relay.WaitForAsync(1)).Single().Message;
        var mixed = Assert.IsType<Multipart>(sent.Body);
        var related = Assert.IsType<MultipartRelated>(Assert.IsType<MultipartAlternative>(mixed[0])[1]);
        var image = Assert.IsType<MimePart>(related[1]);
        Assert.Equal((shown, "cable.png"), (image.ContentId, image.FileName));
        Assert.Equal(Png, Decode(image));
        var html = Assert.IsType<TextPart>(related.Root).Text.ReplaceLineEndings("\n");
        Assert.Contains($"<img src=\"cid:{shown}\" alt=\"cable.png\">", html);
        Assert.Equal(html, HtmlBodySanitizer.Sanitize(html, MailBody.OwnImages([shown, notShown])).Html);
        var attachment = Assert.IsType<MimePart>(Assert.Single(mixed.Skip(1)));
        Assert.Equal("other.png", attachment.FileName);
        Assert.Equal(other, Decode(attachment));
        Assert.Equal(1, await CountRepliesAsync(ticketId));

        // The thread shows the sent image from our own attachment URL, and only the other one as an attachment to download.
        var api = App.CreateApiClient();
        var reply = (await api.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{ticketId}")).GetProperty("messages").EnumerateArray().Last();
        var files = reply.GetProperty("attachments").EnumerateArray().ToList();
        var inline = files.Single(f => f.GetProperty("isInline").GetBoolean());
        Assert.Equal((shown, "cable.png"), (inline.GetProperty("contentId").GetString(), inline.GetProperty("fileName").GetString()));
        Assert.Equal("other.png", files.Single(f => !f.GetProperty("isInline").GetBoolean()).GetProperty("fileName").GetString());
        Assert.Contains($"<img src=\"/files/attachments/{inline.GetProperty("id").GetInt64()}\" alt=\"cable.png\">", reply.GetProperty("html").GetString());
        Assert.Equal(Png, await api.GetByteArrayAsync($"/api/v1/attachments/{inline.GetProperty("id").GetInt64()}"));
    }

    private async Task<int> CountRepliesAsync(long ticketId)
    {
        await using var db = App.Database.OpenContext();
        return await db.Messages.CountAsync(m => m.TicketId == ticketId && m.Direction == Core.Tickets.MessageDirection.Outbound);
    }

    private static byte[] Decode(MimePart part)
    {
        using var bytes = new MemoryStream();
        part.Content!.DecodeTo(bytes);
        return bytes.ToArray();
    }
}
