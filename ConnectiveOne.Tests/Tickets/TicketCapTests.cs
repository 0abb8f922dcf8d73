using System.Net.Http.Json;
using System.Text.Json;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using MimeKit;

namespace ConnectiveOne.Tests.Tickets;

/// <summary>
/// The per-ticket cap (<c>ConnectiveOne:Tickets:MaxMessagesPerTicket</c>, here 3) over real SMTP: mail past it starts a
/// ticket that continues the full one, and later mail of that conversation follows into the continuation.
/// </summary>
public sealed class TicketCapTests : IAsyncLifetime
{
    private const int Max = 3;
    private readonly InboundApp _inbound = new(new Dictionary<string, string?>
    {
        ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain,
        ["ConnectiveOne:Tickets:MaxMessagesPerTicket"] = Max.ToString(System.Globalization.CultureInfo.InvariantCulture),
    });

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _inbound.DisposeAsync();

    private static MimeMessage Mail(string id, string subject = "Flood", string? inReplyTo = null)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Carla", "carla@customer.test"));
        message.To.Add(MailboxAddress.Parse("support@acme.test"));
        message.Subject = subject;
        message.MessageId = $"{id}@customer.test";
        if (inReplyTo is not null)
            message.InReplyTo = inReplyTo;
        message.Body = new TextPart("plain") { Text = id };
        return message;
    }

    private async Task<List<Ticket>> TicketsAsync()
    {
        await using var db = _inbound.App.Database.OpenContext();
        return await db.Tickets.AsNoTracking().OrderBy(t => t.Id).ToListAsync();
    }

    [Fact]
    public async Task Mail_past_the_cap_opens_a_continuation_and_replies_to_the_full_ticket_follow_it()
    {
        var technical = await MailSeed.AddressServedByBotAsync(_inbound.App);
        for (var i = 1; i <= Max + 1; i++)
            await _inbound.SendAsync(Mail($"m{i}"), technical);

        var tickets = await TicketsAsync();
        Assert.Equal(2, tickets.Count);
        var (full, next) = (tickets[0], tickets[1]);
        Assert.Equal((Max, (long?)null), (full.MessageCount, full.ContinuesTicketId));
        Assert.Equal((1, (long?)full.Id), (next.MessageCount, next.ContinuesTicketId));

        // A reply to the full ticket's first message (rule 2: its Message-ID), with another subject: the continuation.
        await _inbound.SendAsync(Mail("r1", "Something else", inReplyTo: "m1@customer.test"), technical);
        // And to the continuation's own message: stays there until that one is full too.
        await _inbound.SendAsync(Mail("r2", "Yet another", inReplyTo: "m4@customer.test"), technical);
        tickets = await TicketsAsync();
        Assert.Equal(2, tickets.Count);
        Assert.Equal(Max, tickets[1].MessageCount);

        // Both full: a reply to the first ticket walks the chain and opens a third, continuing the second.
        await _inbound.SendAsync(Mail("r3", "Again", inReplyTo: "m1@customer.test"), technical);
        tickets = await TicketsAsync();
        Assert.Equal(3, tickets.Count);
        Assert.Equal((1, (long?)next.Id), (tickets[2].MessageCount, tickets[2].ContinuesTicketId));

        // The API names the link both ways.
        var api = _inbound.App.CreateApiClient();
        var first = await api.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{full.Id}");
        var second = await api.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{next.Id}");
        Assert.Equal(JsonValueKind.Null, first.GetProperty("continuesTicketId").ValueKind);
        Assert.Equal(next.Id, first.GetProperty("continuedByTicketId").GetInt64());
        Assert.Equal(full.Id, second.GetProperty("continuesTicketId").GetInt64());
        Assert.Equal(tickets[2].Id, second.GetProperty("continuedByTicketId").GetInt64());
    }

    [Fact]
    public async Task Mail_arriving_together_fills_tickets_to_the_cap_in_one_chain()
    {
        const int sent = 10;
        var technical = await MailSeed.AddressServedByBotAsync(_inbound.App);
        await _inbound.SendAsync(Mail("first"), technical);
        // Concurrent sessions: the writer commits them in shared batches, which must count what they add.
        await Task.WhenAll(Enumerable.Range(2, sent - 1).Select(i => _inbound.SendAsync(Mail($"c{i}"), technical)));

        var tickets = await TicketsAsync();
        Assert.Equal(sent, tickets.Sum(t => t.MessageCount));
        Assert.Equal((sent + Max - 1) / Max, tickets.Count);
        Assert.All(tickets, t => Assert.InRange(t.MessageCount, 1, Max));
        Assert.Null(tickets[0].ContinuesTicketId);
        for (var i = 1; i < tickets.Count; i++)
            Assert.Equal(tickets[i - 1].Id, tickets[i].ContinuesTicketId);
    }
}
