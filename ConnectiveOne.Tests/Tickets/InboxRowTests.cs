using System.Net.Http.Json;
using System.Text.Json;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;

namespace ConnectiveOne.Tests.Tickets;

/// <summary>
/// What the inbox row shows of a ticket's last message (issue #15, "Rows"): written with the message by the intake
/// writer's batch and by replies, read with the list (no query per row).
/// </summary>
public sealed class InboxRowTests : IAsyncLifetime
{
    private readonly InboundApp _inbound = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _inbound.DisposeAsync().AsTask();

    private static MimeMessage Mail(string subject, string text, (string Name, byte[] Bytes)? file = null)
    {
        var body = new BodyBuilder { TextBody = text };
        if (file is { } f)
            body.Attachments.Add(f.Name, f.Bytes, new ContentType("application", "pdf"));
        return new MimeMessage
        {
            From = { new MailboxAddress("Carla Customer", "carla@customer.test") },
            To = { MailboxAddress.Parse("support@acme.test") },
            Subject = subject,
            Body = body.ToMessageBody(),
        };
    }

    private async Task<Ticket> TicketAsync()
    {
        await using var db = _inbound.App.Database.OpenContext();
        return await db.Tickets.AsNoTracking().SingleAsync();
    }

    [Fact]
    public async Task The_row_follows_the_last_message_through_mail_a_reply_a_note_and_the_next_mail()
    {
        var technical = await MailSeed.AddressServedByBotAsync(_inbound.App);
        await _inbound.SendAsync(Mail("Invoice 4711 is wrong", "The total on   invoice 4711\nis twice the order.\n\nOn Mon, Support wrote:\n> Your invoice",
            ("invoice.pdf", new byte[3_000])), technical);
        var ticket = await TicketAsync();
        Assert.Equal("The total on invoice 4711 is twice the order.", ticket.LastMessagePreview);
        Assert.Equal(MessageDirection.Inbound, ticket.LastDirection);
        Assert.True(ticket.HasAttachments);

        Assert.Null((await MailSeed.ReplyWithAsync(_inbound.App, ticket.Id, "Sorry about that: a corrected invoice follows.", [])).Error);
        ticket = await TicketAsync();
        Assert.Equal("Sorry about that: a corrected invoice follows.", ticket.LastMessagePreview);
        Assert.Equal(MessageDirection.Outbound, ticket.LastDirection);
        Assert.True(ticket.HasAttachments); // a reply without files does not clear the mark

        // A note is for colleagues: the row still shows what the customer last saw.
        await using (var scope = _inbound.App.Services.CreateAsyncScope())
        await using (var db = _inbound.App.Database.OpenContext())
        {
            var admin = await db.Users.SingleAsync(u => u.Email == TestApp.AdminEmail);
            Assert.Null((await scope.ServiceProvider.GetRequiredService<TicketCommands>().AddNoteAsync(ticket.Id, "Check with billing", admin.Id)).Error);
        }
        Assert.Equal(MessageDirection.Outbound, (await TicketAsync()).LastDirection);

        await _inbound.SendAsync(Mail("Re: Invoice 4711 is wrong", "Thanks, that one is right."), technical);
        ticket = await TicketAsync();
        Assert.Equal(4, ticket.MessageCount);
        Assert.Equal("Thanks, that one is right.", ticket.LastMessagePreview);
        Assert.Equal(MessageDirection.Inbound, ticket.LastDirection);
        Assert.True(ticket.HasAttachments);

        // The list (API and inbox) reads them with the row.
        var item = (await _inbound.App.CreateApiClient().GetFromJsonAsync<JsonElement>("/api/v1/tickets")).GetProperty("items")[0];
        Assert.Equal("Thanks, that one is right.", item.GetProperty("preview").GetString());
        Assert.Equal("Inbound", item.GetProperty("lastDirection").GetString());
        Assert.True(item.GetProperty("hasAttachments").GetBoolean());
    }

    [Fact]
    public async Task A_reply_with_a_file_marks_a_ticket_that_had_none()
    {
        var technical = await MailSeed.AddressServedByBotAsync(_inbound.App);
        await _inbound.SendAsync(Mail("Manual please", "Could you send the manual?"), technical);
        var ticket = await TicketAsync();
        Assert.False(ticket.HasAttachments);
        var reply = await MailSeed.ReplyWithAsync(_inbound.App, ticket.Id, "Here it is.",
            [new ConnectiveOne.Core.Outbound.ReplyAttachment("manual.pdf", "application/pdf", new byte[1_000])]);
        Assert.Null(reply.Error);
        Assert.True((await TicketAsync()).HasAttachments);
    }
}
