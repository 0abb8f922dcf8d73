using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Tests.TestSupport;

namespace ConnectiveOne.Tests.Integration;

/// <summary>
/// API.md "Workflow": <c>PATCH /api/v1/tickets/{id}</c> with <c>snoozedUntil</c> snoozes (Ticket gains <c>snoozedUntil</c>),
/// null ends the snooze, leaving it out keeps it; a past time or one without its offset is a 400 in words.
/// </summary>
public sealed class SnoozeApiTests : IAsyncLifetime
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
    public async Task Snoozing_sets_the_time_records_an_event_and_null_ends_it_while_leaving_it_out_keeps_it()
    {
        var id = (await MailSeed.TicketAsync(_app, _address, "Call me next week")).Ticket.Id;
        var until = DateTimeOffset.UtcNow.AddDays(2);
        var wire = until.ToOffset(TimeSpan.FromHours(1)).ToString("yyyy-MM-ddTHH:mm:sszzz");

        var snoozed = await _api.PatchAsJsonAsync($"/api/v1/tickets/{id}", new { snoozedUntil = wire });

        Assert.Equal(HttpStatusCode.OK, snoozed.StatusCode);
        var ticket = await snoozed.Content.ReadFromJsonAsync<JsonElement>();
        var back = ticket.GetProperty("snoozedUntil").GetDateTimeOffset();
        Assert.Equal(DateTimeOffset.Parse(wire), back);
        var snoozeEvent = ticket.GetProperty("events").EnumerateArray().Single();
        Assert.Equal("Snoozed", snoozeEvent.GetProperty("kind").GetString());
        Assert.Equal("ann@acme.test", snoozeEvent.GetProperty("actor").GetString());
        Assert.StartsWith("snoozed until ", snoozeEvent.GetProperty("detail").GetString());
        Assert.EndsWith("(UTC)", snoozeEvent.GetProperty("detail").GetString());

        // A status change alone leaves the snooze as it is.
        var pending = await _api.PatchAsJsonAsync($"/api/v1/tickets/{id}", new { status = "Pending" });
        Assert.Equal(HttpStatusCode.OK, pending.StatusCode);
        Assert.Equal(back, (await pending.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("snoozedUntil").GetDateTimeOffset());

        var ended = await _api.PatchAsync($"/api/v1/tickets/{id}", JsonContent.Create(new Dictionary<string, object?> { ["snoozedUntil"] = null }));

        Assert.Equal(HttpStatusCode.OK, ended.StatusCode);
        var after = await ended.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(JsonValueKind.Null, after.GetProperty("snoozedUntil").ValueKind);
        Assert.Equal("ended the snooze", after.GetProperty("events").EnumerateArray().Last().GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_past_time_a_time_without_offset_and_nonsense_are_refused_in_words_and_change_nothing()
    {
        var id = (await MailSeed.TicketAsync(_app, _address)).Ticket.Id;
        foreach (var (value, words) in new (object, string)[]
                 {
                     (DateTimeOffset.UtcNow.AddMinutes(-5).ToString("o"), "must be in the future"),
                     ("2030-01-01T08:00:00", "with its offset"),
                     ("tomorrow", "with its offset"),
                     (42, "with its offset"),
                     (DateTimeOffset.UtcNow.AddYears(2).ToString("o"), "a year at most"),
                 })
        {
            var refused = await _api.PatchAsJsonAsync($"/api/v1/tickets/{id}", new { snoozedUntil = value, status = "Resolved" });

            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Contains(words, problem.GetProperty("title").GetString());
        }
        var ticket = await _api.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{id}");
        Assert.Equal(JsonValueKind.Null, ticket.GetProperty("snoozedUntil").ValueKind);
        Assert.Equal("Open", ticket.GetProperty("status").GetString());
        Assert.Empty(ticket.GetProperty("events").EnumerateArray());

        var missing = await _api.PatchAsJsonAsync("/api/v1/tickets/999999", new { snoozedUntil = DateTimeOffset.UtcNow.AddDays(1).ToString("o") });
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }
}
