using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.TestSupport;

namespace ConnectiveOne.Tests.Integration;

/// <summary>
/// API.md "Workflow": <c>GET/PUT/DELETE /api/v1/tickets/{id}/draft</c>. Each operator reads and changes only their own
/// draft (another's answers 404 and stays as it was); a too long text is refused with its limit in words; sending a reply
/// deletes the sender's draft; the draft's words never reach the log.
/// </summary>
public sealed class DraftsApiTests : IAsyncLifetime
{
    private readonly TestApp _app = new(settings: new Dictionary<string, string?> { ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain });
    private CorporateAddress _address = null!;
    private HttpClient _ann = null!, _bob = null!;

    public async Task InitializeAsync()
    {
        _address = await MailSeed.AddressAsync(_app, "support@acme.test", DomainStatus.Verified);
        _ann = _app.CreateApiClient(await _app.CreateUserWithTokenAsync("ann@acme.test", "Operator"));
        _bob = _app.CreateApiClient(await _app.CreateUserWithTokenAsync("bob@acme.test", "Operator"));
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task An_operator_saves_reads_replaces_and_deletes_their_own_draft_and_never_someone_elses()
    {
        var ticket = (await MailSeed.TicketAsync(_app, _address)).Ticket.Id;
        var url = $"/api/v1/tickets/{ticket}/draft";
        await ProblemAsync(await _ann.GetAsync(url), HttpStatusCode.NotFound, $"You have no draft on ticket #{ticket}");

        var put = await _ann.PutAsJsonAsync(url, new { text = "Dear Carol, the secret-word-4711 fix is", to = new[] { "carol@customer.example" }, cc = Array.Empty<string>() });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var saved = await put.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(ticket, saved.GetProperty("ticketId").GetInt64());
        Assert.Equal("Dear Carol, the secret-word-4711 fix is", saved.GetProperty("text").GetString());
        Assert.Equal(["carol@customer.example"], saved.GetProperty("to").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(0, saved.GetProperty("cc").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, saved.GetProperty("bcc").ValueKind);
        Assert.False(saved.GetProperty("note").GetBoolean());

        var read = await _ann.GetFromJsonAsync<JsonElement>(url);
        Assert.Equal("Dear Carol, the secret-word-4711 fix is", read.GetProperty("text").GetString());
        Assert.Equal(saved.GetProperty("updatedAt").GetDateTimeOffset(), read.GetProperty("updatedAt").GetDateTimeOffset());

        // Bob sees no draft of Ann's, cannot delete it, and his own is a separate one.
        await ProblemAsync(await _bob.GetAsync(url), HttpStatusCode.NotFound, $"You have no draft on ticket #{ticket}");
        await ProblemAsync(await _bob.DeleteAsync(url), HttpStatusCode.NotFound, $"You have no draft on ticket #{ticket}");
        (await _bob.PutAsJsonAsync(url, new { text = "Bob's words", note = true })).EnsureSuccessStatusCode();
        Assert.Equal("Dear Carol, the secret-word-4711 fix is", (await _ann.GetFromJsonAsync<JsonElement>(url)).GetProperty("text").GetString());
        var bobs = await _bob.GetFromJsonAsync<JsonElement>(url);
        Assert.Equal("Bob's words", bobs.GetProperty("text").GetString());
        Assert.True(bobs.GetProperty("note").GetBoolean());
        Assert.Equal(JsonValueKind.Null, bobs.GetProperty("to").ValueKind);

        // A second PUT replaces the draft.
        (await _ann.PutAsJsonAsync(url, new { text = "Dear Carol, fixed." })).EnsureSuccessStatusCode();
        var replaced = await _ann.GetFromJsonAsync<JsonElement>(url);
        Assert.Equal("Dear Carol, fixed.", replaced.GetProperty("text").GetString());
        Assert.Equal(JsonValueKind.Null, replaced.GetProperty("to").ValueKind);

        Assert.Equal(HttpStatusCode.NoContent, (await _ann.DeleteAsync(url)).StatusCode);
        await ProblemAsync(await _ann.GetAsync(url), HttpStatusCode.NotFound, "You have no draft");
        await ProblemAsync(await _ann.DeleteAsync(url), HttpStatusCode.NotFound, "You have no draft");
        Assert.Equal("Bob's words", (await _bob.GetFromJsonAsync<JsonElement>(url)).GetProperty("text").GetString());

        // The operator's unsent words are not logged (the requests above are).
        var logs = await _app.WaitForLogsAsync(l => l.Contains($"/api/v1/tickets/{ticket}/draft", StringComparison.Ordinal));
        Assert.Contains($"/api/v1/tickets/{ticket}/draft", logs, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-word-4711", logs, StringComparison.Ordinal);
        Assert.DoesNotContain("Bob's words", logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_drafts_are_refused_with_a_title_in_words()
    {
        var ticket = (await MailSeed.TicketAsync(_app, _address)).Ticket.Id;
        var url = $"/api/v1/tickets/{ticket}/draft";

        var tooLong = new string('x', TicketDrafts.MaxTextLength + 1);
        await ProblemAsync(await _ann.PutAsJsonAsync(url, new { text = tooLong }), HttpStatusCode.RequestEntityTooLarge,
            "A draft can hold up to 100,000 characters; this one has 100,001.");
        // Exactly at the limit is kept.
        (await _ann.PutAsJsonAsync(url, new { text = new string('x', TicketDrafts.MaxTextLength) })).EnsureSuccessStatusCode();
        // A body far over any draft: 413 in words too (by Kestrel's body limit for the route, or, in the test server that does
        // not enforce one, by the text's).
        var huge = await _ann.PutAsync(url, new StringContent(JsonSerializer.Serialize(new { text = new string('y', 2_000_000) }),
            System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);
        Assert.Matches("larger than this route accepts|A draft can hold up to", (await huge.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("title").GetString());

        await ProblemAsync(await _ann.PutAsync(url, new StringContent("{not json", System.Text.Encoding.UTF8, "application/json")),
            HttpStatusCode.BadRequest, "could not be read");
        await ProblemAsync(await _ann.PutAsJsonAsync(url, new { to = new[] { "a@b.test" } }), HttpStatusCode.BadRequest, "needs a \"text\"");
        await ProblemAsync(await _ann.PutAsJsonAsync(url, new { text = "hi", cc = Enumerable.Range(0, 51).Select(i => $"p{i}@x.test") }),
            HttpStatusCode.BadRequest, "Cc can name at most 50 addresses");
        await ProblemAsync(await _ann.PutAsJsonAsync("/api/v1/tickets/999999/draft", new { text = "hi" }), HttpStatusCode.NotFound,
            "There is no ticket #999999");
        Assert.Equal(HttpStatusCode.Unauthorized, (await _app.CreateApiClient(null).GetAsync(url)).StatusCode);
    }

    [Fact]
    public async Task Sending_a_reply_deletes_the_senders_draft_but_not_a_colleagues()
    {
        var ticket = (await MailSeed.TicketAsync(_app, _address)).Ticket.Id;
        var url = $"/api/v1/tickets/{ticket}/draft";
        (await _ann.PutAsJsonAsync(url, new { text = "Dear Carol, fixed." })).EnsureSuccessStatusCode();
        (await _bob.PutAsJsonAsync(url, new { text = "Bob was going to say" })).EnsureSuccessStatusCode();

        var reply = await _ann.PostAsJsonAsync($"/api/v1/tickets/{ticket}/replies", new { text = "Dear Carol, fixed." });

        Assert.Equal(HttpStatusCode.Accepted, reply.StatusCode);
        await ProblemAsync(await _ann.GetAsync(url), HttpStatusCode.NotFound, "You have no draft");
        Assert.Equal("Bob was going to say", (await _bob.GetFromJsonAsync<JsonElement>(url)).GetProperty("text").GetString());
    }

    private static async Task ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string words)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{response.StatusCode}: {body}");
        using var problem = JsonDocument.Parse(body);
        Assert.Contains(words, problem.RootElement.GetProperty("title").GetString());
    }
}
