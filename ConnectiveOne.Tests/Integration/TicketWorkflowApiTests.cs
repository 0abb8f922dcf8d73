using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;

namespace ConnectiveOne.Tests.Integration;

/// <summary>API.md "Workflow": merge, split, and the proposed undo route, with bad input answered in words; events in the ticket shape.</summary>
public sealed class TicketWorkflowApiTests : IAsyncLifetime
{
    private readonly TestApp _app = new(settings: new Dictionary<string, string?> { ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain });
    private CorporateAddress _address = null!;
    private HttpClient _api = null!;

    public async Task InitializeAsync()
    {
        _address = await MailSeed.AddressAsync(_app, "support@acme.test", DomainStatus.Pending);
        _api = _app.CreateApiClient(await _app.CreateUserWithTokenAsync("ann@acme.test", "Operator"));
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_merge_moves_the_messages_records_an_event_and_the_old_number_opens_the_target_until_it_is_undone()
    {
        var target = (await MailSeed.TicketAsync(_app, _address, "Invoice")).Ticket.Id;
        var source = (await MailSeed.TicketAsync(_app, _address, "Login")).Ticket.Id;
        await SetCustomerAsync(source, "dave@customer.example");

        var merged = await _api.PostAsJsonAsync($"/api/v1/tickets/{source}/merge", new { intoTicketId = target });

        Assert.Equal(HttpStatusCode.OK, merged.StatusCode);
        var ticket = await merged.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(target, ticket.GetProperty("id").GetInt64());
        Assert.Equal(2, ticket.GetProperty("messageCount").GetInt32());
        Assert.Equal(2, ticket.GetProperty("messages").GetArrayLength());
        // The merged ticket's customer takes part in the target now.
        Assert.Contains(ticket.GetProperty("participants").EnumerateArray(), p => p.GetProperty("email").GetString() == "dave@customer.example");
        var mergeEvent = ticket.GetProperty("events").EnumerateArray().Single();
        Assert.Equal("Merged", mergeEvent.GetProperty("kind").GetString());
        Assert.Equal("ann@acme.test", mergeEvent.GetProperty("actor").GetString());
        Assert.Contains($"#{source}", mergeEvent.GetProperty("detail").GetString());
        Assert.NotEqual(JsonValueKind.Null, mergeEvent.GetProperty("undoableUntil").ValueKind);

        // The old number opens the target; lists show the target only.
        var old = await _api.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{source}");
        Assert.Equal(target, old.GetProperty("id").GetInt64());
        foreach (var query in new[] { "", "?status=Open" })
        {
            var list = await _api.GetFromJsonAsync<JsonElement>($"/api/v1/tickets{query}");
            Assert.Equal([target], list.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetInt64()));
        }

        var undone = await _api.PostAsync($"/api/v1/ticket-events/{mergeEvent.GetProperty("id").GetInt64()}/undo", null);

        Assert.Equal(HttpStatusCode.OK, undone.StatusCode);
        var back = await undone.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(source, back.GetProperty("id").GetInt64());
        Assert.Equal("Open", back.GetProperty("status").GetString());
        Assert.Equal(["Login"], back.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("subject").GetString()));
        Assert.Equal(["MergedInto", "Undone"], back.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("kind").GetString()));
        var again = await _api.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{target}");
        Assert.Equal(1, again.GetProperty("messageCount").GetInt32());
        Assert.DoesNotContain(again.GetProperty("participants").EnumerateArray(), p => p.GetProperty("email").GetString() == "dave@customer.example");
        Assert.Equal(JsonValueKind.Null, again.GetProperty("events")[0].GetProperty("undoableUntil").ValueKind);

        await ProblemAsync(await _api.PostAsync($"/api/v1/ticket-events/{mergeEvent.GetProperty("id").GetInt64()}/undo", null),
            HttpStatusCode.Conflict, "undone already");
    }

    [Fact]
    public async Task Bad_merges_are_refused_with_a_title_in_words()
    {
        var a = (await MailSeed.TicketAsync(_app, _address, "One")).Ticket.Id;
        var b = (await MailSeed.TicketAsync(_app, _address, "Two")).Ticket.Id;
        var c = (await MailSeed.TicketAsync(_app, _address, "Three")).Ticket.Id;

        await ProblemAsync(await _api.PostAsJsonAsync($"/api/v1/tickets/{a}/merge", new { intoTicketId = a }), HttpStatusCode.BadRequest, "into itself");
        await ProblemAsync(await _api.PostAsJsonAsync($"/api/v1/tickets/{a}/merge", new { }), HttpStatusCode.BadRequest, "intoTicketId");
        await ProblemAsync(await _api.PostAsJsonAsync($"/api/v1/tickets/{a}/merge", new { intoTicketId = 987654 }), HttpStatusCode.BadRequest, "no ticket #987654");
        await ProblemAsync(await _api.PostAsJsonAsync("/api/v1/tickets/987654/merge", new { intoTicketId = a }), HttpStatusCode.NotFound, "no ticket #987654");
        await ProblemAsync(await _api.PostAsync($"/api/v1/tickets/{a}/merge", new StringContent("{\"intoTicketId\": \"x\"", System.Text.Encoding.UTF8, "application/json")),
            HttpStatusCode.BadRequest, "could not be read");

        Assert.Equal(HttpStatusCode.OK, (await _api.PostAsJsonAsync($"/api/v1/tickets/{b}/merge", new { intoTicketId = a })).StatusCode);

        await ProblemAsync(await _api.PostAsJsonAsync($"/api/v1/tickets/{c}/merge", new { intoTicketId = b }), HttpStatusCode.Conflict,
            $"#{b} was merged into #{a}");
        await ProblemAsync(await _api.PostAsJsonAsync($"/api/v1/tickets/{b}/merge", new { intoTicketId = c }), HttpStatusCode.Conflict,
            $"#{b} was already merged");
        // A merged ticket's status is not an operator's choice.
        await ProblemAsync(await _api.PatchAsJsonAsync($"/api/v1/tickets/{a}", new { status = "Merged" }), HttpStatusCode.BadRequest, "Open, Pending or Resolved");
        await using var db = _app.Database.OpenContext();
        Assert.Equal(1, await db.Messages.CountAsync(m => m.TicketId == c));
        Assert.Equal(2, await db.Messages.CountAsync(m => m.TicketId == a));
    }

    [Fact]
    public async Task A_split_moves_a_message_and_the_later_ones_into_a_new_ticket_and_undo_brings_them_back()
    {
        var (ticket, first) = await MailSeed.TicketAsync(_app, _address, "Order status");
        var second = await AddMessageAsync(ticket.Id, "Re: Order 2 status", 1);
        var third = await AddMessageAsync(ticket.Id, "Re: Order 2 status", 2);

        await ProblemAsync(await _api.PostAsync($"/api/v1/messages/{first.Id}/split", null), HttpStatusCode.BadRequest, "first message");
        await ProblemAsync(await _api.PostAsync("/api/v1/messages/987654/split", null), HttpStatusCode.NotFound, "no message 987654");
        var split = await _api.PostAsync($"/api/v1/messages/{second}/split", null);

        Assert.Equal(HttpStatusCode.Created, split.StatusCode);
        var created = await split.Content.ReadFromJsonAsync<JsonElement>();
        var newId = created.GetProperty("id").GetInt64();
        Assert.Equal($"/api/v1/tickets/{newId}", split.Headers.Location?.OriginalString);
        Assert.Equal("Order 2 status", created.GetProperty("subject").GetString());
        Assert.Equal([second, third], created.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("id").GetInt64()));
        Assert.Equal("SplitFrom", created.GetProperty("events")[0].GetProperty("kind").GetString());
        var original = await _api.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{ticket.Id}");
        Assert.Equal(1, original.GetProperty("messageCount").GetInt32());
        var splitEvent = original.GetProperty("events").EnumerateArray().Single();
        Assert.Equal("SplitOff", splitEvent.GetProperty("kind").GetString());
        Assert.Equal(newId, splitEvent.GetProperty("otherTicketId").GetInt64());

        var undone = await _api.PostAsync($"/api/v1/ticket-events/{splitEvent.GetProperty("id").GetInt64()}/undo", null);

        Assert.Equal(HttpStatusCode.OK, undone.StatusCode);
        var back = await undone.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal([first.Id, second, third], back.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("id").GetInt64()));
        // The split-off number still leads to the original (replies may name it).
        Assert.Equal(ticket.Id, (await _api.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{newId}")).GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task Undo_is_refused_after_ten_minutes_for_unknown_events_and_for_events_that_are_not_a_merge_or_split()
    {
        var a = (await MailSeed.TicketAsync(_app, _address, "One")).Ticket.Id;
        var b = (await MailSeed.TicketAsync(_app, _address, "Two")).Ticket.Id;
        var merged = await (await _api.PostAsJsonAsync($"/api/v1/tickets/{b}/merge", new { intoTicketId = a })).Content.ReadFromJsonAsync<JsonElement>();
        var mergeId = merged.GetProperty("events")[0].GetProperty("id").GetInt64();
        var patched = await (await _api.PatchAsJsonAsync($"/api/v1/tickets/{a}", new { status = "Pending" })).Content.ReadFromJsonAsync<JsonElement>();
        var status = patched.GetProperty("events").EnumerateArray().Single(e => e.GetProperty("kind").GetString() == "StatusChanged");
        Assert.Equal("changed the status from Open to Pending", status.GetProperty("detail").GetString());

        await ProblemAsync(await _api.PostAsync($"/api/v1/ticket-events/{status.GetProperty("id").GetInt64()}/undo", null), HttpStatusCode.BadRequest,
            "Only a merge or a split");
        await ProblemAsync(await _api.PostAsync("/api/v1/ticket-events/987654/undo", null), HttpStatusCode.NotFound, "no ticket event 987654");
        await using (var db = _app.Database.OpenContext())
        {
            var at = DateTimeOffset.UtcNow - TicketWorkflow.UndoWindow - TimeSpan.FromMinutes(1);
            await db.TicketEvents.Where(e => e.Id == mergeId).ExecuteUpdateAsync(s => s.SetProperty(e => e.At, at));
        }
        await ProblemAsync(await _api.PostAsync($"/api/v1/ticket-events/{mergeId}/undo", null), HttpStatusCode.Conflict, "10 minutes");
        Assert.Equal(a, (await _api.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{b}")).GetProperty("id").GetInt64());
    }

    private static async Task ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string words)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{response.StatusCode}: {body}");
        using var problem = JsonDocument.Parse(body);
        Assert.Contains(words, problem.RootElement.GetProperty("title").GetString());
    }

    private async Task SetCustomerAsync(long ticketId, string email)
    {
        await using var db = _app.Database.OpenContext();
        await db.Tickets.Where(t => t.Id == ticketId).ExecuteUpdateAsync(s => s.SetProperty(t => t.CustomerEmail, email));
        await db.Messages.Where(m => m.TicketId == ticketId).ExecuteUpdateAsync(s => s.SetProperty(m => m.FromAddress, email));
    }

    private async Task<long> AddMessageAsync(long ticketId, string subject, int minutesLater)
    {
        await using var db = _app.Database.OpenContext();
        var id = Guid.NewGuid().ToString("N") + "@customer.example";
        var message = new TicketMessage
        {
            TicketId = ticketId, AddressId = _address.Id, Direction = MessageDirection.Inbound, MessageIdHeader = id, DedupKey = id,
            FromAddress = "carol@customer.example", Subject = subject, ReceivedAt = DateTimeOffset.UtcNow.AddMinutes(minutesLater), Text = "More",
        };
        db.Messages.Add(message);
        await db.SaveChangesAsync();
        await db.Tickets.Where(t => t.Id == ticketId).ExecuteUpdateAsync(s => s.SetProperty(t => t.MessageCount, t => t.MessageCount + 1));
        return message.Id;
    }
}
