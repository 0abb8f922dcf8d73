using System.Net;
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
/// Issue #14, rich replies, quoted history and the DMARC alignment guard, end to end: the customer's mail goes in through
/// the real SMTP listener, the reply goes out through the outbox to a capture relay, and the relay's copy is checked.
/// </summary>
[RunsLong(30)]
public sealed class RichReplyTests : IAsyncLifetime
{
    private const string Carol = "carol@customer.example";

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
    public async Task A_Markdown_reply_goes_out_as_multipart_alternative_whose_HTML_the_sanitizer_leaves_unchanged_and_the_thread_shows_it()
    {
        var address = await MailSeed.AddressAsync(App, "support@acme.test", DomainStatus.Verified);
        var ticketId = await CustomerWritesAsync(address.TechnicalAddress, "rich@customer.example");
        var api = App.CreateApiClient();

        await ReplyAsync(api, ticketId, new
        {
            text = "Hi **Carol**, _sorry_.\n\n- unplug it\n- see [the manual](https://acme.test/manual)\n\n> on fire\n\nRun `reset`:\n\n```\nsudo reboot\n```",
        });

        var message = (await _relay.WaitForAsync(1))[0].Message;
        var alternative = Assert.IsType<MultipartAlternative>(message.Body);
        Assert.Equal(["text/plain", "text/html"], alternative.Select(p => p.ContentType.MimeType));
        var html = message.HtmlBody!.ReplaceLineEndings("\n");
        Assert.Equal(html, HtmlBodySanitizer.Sanitize(html, _ => null).Html);
        foreach (var expected in (string[])["<strong>Carol</strong>", "<em>sorry</em>", "<li>unplug it</li>", "href=\"https://acme.test/manual\"",
                     "<blockquote>", "<code>reset</code>", "<pre><code>sudo reboot"])
            Assert.Contains(expected, html);
        var text = message.TextBody!.ReplaceLineEndings("\n");
        Assert.StartsWith("Hi Carol, sorry.\n\n- unplug it\n- see the manual <https://acme.test/manual>\n\n> on fire", text);
        Assert.DoesNotContain("**", text);

        var shown = (await api.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{ticketId}")).GetProperty("messages").EnumerateArray().Last();
        Assert.Contains("<strong>Carol</strong>", shown.GetProperty("html").GetString());
        Assert.StartsWith("Hi Carol, sorry.", shown.GetProperty("text").GetString());
    }

    [Fact]
    public async Task The_answered_message_is_quoted_as_the_address_says_unless_the_reply_says_otherwise()
    {
        var address = await MailSeed.AddressAsync(App, "support@acme.test", DomainStatus.Verified);
        var ticketId = await CustomerWritesAsync(address.TechnicalAddress, "quote@customer.example");
        var api = App.CreateApiClient();

        await ReplyAsync(api, ticketId, new { text = "Not quoted by default." });
        (await api.PatchAsJsonAsync($"/api/v1/addresses/{address.Id}", new { quoteByDefault = true })).EnsureSuccessStatusCode();
        await ReplyAsync(api, ticketId, new { text = "Quoted now." });
        await ReplyAsync(api, ticketId, new { text = "Asked not to quote.", quote = false });
        (await api.PatchAsJsonAsync($"/api/v1/addresses/{address.Id}", new { quoteByDefault = false })).EnsureSuccessStatusCode();
        using var form = new MultipartFormDataContent { { new StringContent("Asked to quote."), "text" }, { new StringContent("true"), "quote" } };
        Assert.Equal(HttpStatusCode.Accepted, (await api.PostAsync($"/api/v1/tickets/{ticketId}/replies", form)).StatusCode);

        var sent = (await _relay.WaitForAsync(4)).Select(m => m.Message).ToList();
        var mails = ((string[])["Not quoted", "Quoted now", "Asked not", "Asked to"]).Select(start => sent.Single(m => m.TextBody!.StartsWith(start))).ToList();
        Assert.Equal([false, true, false, true], mails.Select(m => m.TextBody!.Contains("wrote:")));
        var quoted = mails[1];
        Assert.Matches(@"^Quoted now\.\r?\n\r?\nOn \w{3}, \d{1,2} \w{3} \d{4} at \d{2}:\d{2}, Carol Customer <carol@customer\.example> wrote:\r?\n> The printer is on fire\.\r?\n>\r?\n> Page 2 smokes\.",
            quoted.TextBody);
        Assert.Contains("<blockquote type=\"cite\">The printer is on fire.<br><br>Page 2 smokes.</blockquote>", quoted.HtmlBody);
        Assert.Contains("<blockquote type=\"cite\">", mails[3].HtmlBody);
    }

    [Fact]
    public async Task A_reply_for_an_unverified_domain_goes_from_the_technical_address_with_Reply_To_the_corporate_one_and_the_composer_says_so()
    {
        var verified = await MailSeed.AddressAsync(App, "support@acme.test", DomainStatus.Verified);
        var pending = await MailSeed.AddressAsync(App, "help@pending.test", DomainStatus.Pending);
        var api = App.CreateApiClient();
        (await api.PatchAsJsonAsync($"/api/v1/addresses/{pending.Id}", new { displayName = "Pending Help" })).EnsureSuccessStatusCode();
        var aligned = await CustomerWritesAsync(verified.TechnicalAddress, "aligned@customer.example");
        var guarded = await CustomerWritesAsync(pending.TechnicalAddress, "guarded@customer.example");

        await using (var scope = App.Services.CreateAsyncScope())
        {
            var replies = scope.ServiceProvider.GetRequiredService<ReplyService>();
            Assert.Null((await replies.ContextAsync(aligned, null, CancellationToken.None))!.TechnicalSenderReason);
            var reason = (await replies.ContextAsync(guarded, null, CancellationToken.None))!.TechnicalSenderReason;
            Assert.Equal($"pending.test is not verified (its DNS records are missing or have changed), so this reply goes from {pending.TechnicalAddress} "
                         + "with Reply-To help@pending.test: sent from help@pending.test unsigned, receivers would reject it (DMARC). "
                         + "Answers still come back to this ticket.", reason);
        }
        await ReplyAsync(api, guarded, new { text = "From the technical address." });
        await ReplyAsync(api, aligned, new { text = "From the corporate address." });

        var mails = await _relay.WaitForAsync(2);
        var fromPending = mails.Single(m => m.Message.TextBody!.Contains("technical")).Message;
        Assert.Equal($"\"Pending Help\" <{pending.TechnicalAddress}>", fromPending.From.ToString());
        Assert.Equal("\"Pending Help\" <help@pending.test>", fromPending.ReplyTo.ToString());
        Assert.False(fromPending.Headers.Contains(HeaderId.DkimSignature));
        var fromVerified = mails.Single(m => m.Message.TextBody!.Contains("corporate")).Message;
        Assert.Equal("support@acme.test", fromVerified.From.Mailboxes.Single().Address);
        Assert.Empty(fromVerified.ReplyTo);
        Assert.True(fromVerified.Headers.Contains(HeaderId.DkimSignature));
    }

    private async Task<long> CustomerWritesAsync(string technicalAddress, string messageId)
    {
        var mail = new MimeMessage
        {
            From = { new MailboxAddress("Carol Customer", Carol) },
            To = { MailboxAddress.Parse("support@acme.test") },
            Subject = "Printer on fire",
            MessageId = messageId,
            Date = new DateTimeOffset(2026, 12, 7, 9, 15, 0, TimeSpan.FromHours(1)),
            Body = new TextPart("plain") { Text = "The printer is on fire.\n\nPage 2 smokes." },
        };
        await _inbound.SendAsync(mail, technicalAddress);
        await using var db = App.Database.OpenContext();
        return await db.Messages.Where(m => m.MessageIdHeader == messageId).Select(m => m.TicketId).SingleAsync();
    }

    private static async Task ReplyAsync(HttpClient api, long ticketId, object body)
    {
        var response = await api.PostAsJsonAsync($"/api/v1/tickets/{ticketId}/replies", body);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
    }
}
