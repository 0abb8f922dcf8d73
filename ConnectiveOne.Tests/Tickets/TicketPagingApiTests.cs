using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Tests.Tickets;

/// <summary><c>GET /api/v1/tickets/{id}?before=&amp;limit=</c>: a ticket's messages a page at a time (issue #12, bounded tickets).</summary>
public sealed class TicketPagingApiTests : IAsyncLifetime
{
    private const int Total = 130;
    private readonly TestApp _app = new();
    private HttpClient _api = null!;
    private long _ticketId;
    private long _otherTicketsMessage;
    private List<long> _ids = [];

    public async Task InitializeAsync()
    {
        _api = _app.CreateApiClient();
        var address = await MailSeed.AddressAsync(_app, "support@acme.test", DomainStatus.Verified);
        var (ticket, first) = await MailSeed.TicketAsync(_app, address);
        _otherTicketsMessage = (await MailSeed.TicketAsync(_app, address, "Another one")).Customer.Id;
        _ticketId = ticket.Id;
        await using var scope = _app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var start = first.ReceivedAt;
        // Every third message shares its arrival time with the one before (a group commit stamps a batch alike): pages
        // must split such ties by id, neither repeating nor skipping a message.
        for (var i = 1; i < Total; i++)
        {
            db.Messages.Add(new TicketMessage
            {
                TicketId = ticket.Id,
                AddressId = address.Id,
                Direction = MessageDirection.Inbound,
                DedupKey = $"paging-{i}",
                FromAddress = "carol@customer.example",
                To = address.Email,
                Subject = "Printer on fire",
                ReceivedAt = start.AddSeconds(i - i / 3),
                Text = $"Message {i}",
            });
        }
        await db.SaveChangesAsync();
        await db.Tickets.Where(t => t.Id == ticket.Id).ExecuteUpdateAsync(set => set.SetProperty(t => t.MessageCount, Total));
        // The thread's order: arrival, then id.
        _ids = await db.Messages.Where(m => m.TicketId == ticket.Id).OrderBy(m => m.ReceivedAt).ThenBy(m => m.Id).Select(m => m.Id).ToListAsync();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<JsonElement> GetAsync(string query = "") =>
        await _api.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{_ticketId}{query}");

    private static List<long> Ids(JsonElement ticket) =>
        ticket.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("id").GetInt64()).ToList();

    [Fact]
    public async Task Without_parameters_the_ticket_carries_its_last_50_messages_its_count_and_that_older_ones_exist()
    {
        var ticket = await GetAsync();

        Assert.Equal(_ids[^50..], Ids(ticket));
        Assert.Equal(Total, ticket.GetProperty("messageCount").GetInt32());
        Assert.True(ticket.GetProperty("hasOlder").GetBoolean());
    }

    [Fact]
    public async Task Paging_back_with_before_walks_every_message_once_in_order_and_the_last_page_has_no_older()
    {
        var seen = new List<long>();
        var page = await GetAsync("?limit=40");
        var pages = 1;
        seen.InsertRange(0, Ids(page));
        while (page.GetProperty("hasOlder").GetBoolean())
        {
            page = await GetAsync($"?before={seen[0]}&limit=40");
            Assert.InRange(Ids(page).Count, 1, 40);
            seen.InsertRange(0, Ids(page));
            pages++;
        }

        Assert.Equal(_ids, seen);
        Assert.Equal(4, pages); // 40 + 40 + 40 + 10
        Assert.Equal(10, Ids(page).Count);
        Assert.Empty(Ids(await GetAsync($"?before={_ids[0]}")));
    }

    [Fact]
    public async Task A_page_of_the_maximum_200_is_allowed_and_holds_everything_here()
    {
        var ticket = await GetAsync("?limit=200");

        Assert.Equal(_ids, Ids(ticket));
        Assert.False(ticket.GetProperty("hasOlder").GetBoolean());
    }

    [Theory]
    [InlineData("?limit=201", "Limit must be between 1 and 200 messages.")]
    [InlineData("?limit=0", "Limit must be between 1 and 200 messages.")]
    public async Task A_limit_outside_1_to_200_is_refused_with_words(string query, string title)
    {
        var response = await _api.GetAsync($"/api/v1/tickets/{_ticketId}{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(title, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("title").GetString());
    }

    [Fact]
    public async Task Before_naming_another_tickets_message_is_refused_with_words()
    {
        var response = await _api.GetAsync($"/api/v1/tickets/{_ticketId}?before={_otherTicketsMessage}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal($"Message {_otherTicketsMessage} is not in ticket #{_ticketId}: 'before' takes the id of one of its messages.",
            (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("title").GetString());
    }
}
