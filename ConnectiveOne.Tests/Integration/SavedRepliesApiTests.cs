using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;

namespace ConnectiveOne.Tests.Integration;

/// <summary>
/// API.md "Workflow": GET/POST /api/v1/saved-replies, PUT/DELETE /api/v1/saved-replies/{id}. Operators manage their own;
/// shared ones are admins' (403 for an operator); another user's personal reply is 404; bad input is refused in words.
/// </summary>
public sealed class SavedRepliesApiTests : IAsyncLifetime
{
    private readonly TestApp _app = new();
    private HttpClient _admin = null!, _bob = null!, _carl = null!;
    private Guid _bot;

    public async Task InitializeAsync()
    {
        _admin = _app.CreateApiClient();
        _bob = _app.CreateApiClient(await _app.CreateUserWithTokenAsync("bob@example.test", "Operator"));
        _carl = _app.CreateApiClient(await _app.CreateUserWithTokenAsync("carl@example.test", "Operator"));
        var bot = await (await _admin.PostAsJsonAsync("/api/v1/bots", new { name = "Support" })).Content.ReadFromJsonAsync<JsonElement>();
        _bot = Guid.Parse(bot.GetProperty("id").GetString()!);
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task An_operator_creates_lists_changes_and_deletes_a_personal_reply()
    {
        var created = await _bob.PostAsJsonAsync("/api/v1/saved-replies", new { title = " Refund ", text = "Hello {customer.firstName},\n\n**Refunds** take 5 days.", shared = false });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var reply = await created.Content.ReadFromJsonAsync<JsonElement>();
        var id = reply.GetProperty("id").GetInt64();
        Assert.Equal($"/api/v1/saved-replies/{id}", created.Headers.Location?.OriginalString);
        Assert.Equal("Refund", reply.GetProperty("title").GetString());
        Assert.Equal("Hello {customer.firstName},\n\n**Refunds** take 5 days.", reply.GetProperty("text").GetString());
        Assert.Equal(JsonValueKind.Null, reply.GetProperty("botId").ValueKind);
        Assert.False(reply.GetProperty("shared").GetBoolean());
        Assert.Equal(await UserIdAsync("bob@example.test"), reply.GetProperty("ownerId").GetString());
        Assert.Equal(0, reply.GetProperty("useCount").GetInt32());

        Assert.Equal([id], (await ListAsync(_bob)).Select(r => r.GetProperty("id").GetInt64()));

        var changed = await _bob.PutAsJsonAsync($"/api/v1/saved-replies/{id}", new { title = "Refund policy", text = "Five days.", botId = _bot, shared = false });
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        var after = await changed.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Refund policy", after.GetProperty("title").GetString());
        Assert.Equal(_bot.ToString(), after.GetProperty("botId").GetString());
        Assert.Equal("Five days.", (await ListAsync(_bob)).Single().GetProperty("text").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await _bob.DeleteAsync($"/api/v1/saved-replies/{id}")).StatusCode);
        Assert.Empty(await ListAsync(_bob));
        await ProblemAsync(await _bob.DeleteAsync($"/api/v1/saved-replies/{id}"), HttpStatusCode.NotFound, $"no saved reply {id}");
    }

    [Fact]
    public async Task Shared_replies_are_managed_by_admins_and_seen_by_everyone()
    {
        var created = await _admin.PostAsJsonAsync("/api/v1/saved-replies", new { title = "Greeting", text = "Hello {customer.firstName}", botId = _bot, shared = true });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

        var seen = Assert.Single(await ListAsync(_bob));
        Assert.True(seen.GetProperty("shared").GetBoolean());
        Assert.Equal(_bot.ToString(), seen.GetProperty("botId").GetString());

        await ProblemAsync(await _bob.PostAsJsonAsync("/api/v1/saved-replies", new { title = "Mine for all", text = "x", shared = true }),
            HttpStatusCode.Forbidden, "Only admins can create shared saved replies");
        await ProblemAsync(await _bob.PutAsJsonAsync($"/api/v1/saved-replies/{id}", new { title = "Hijacked", text = "x", shared = true }),
            HttpStatusCode.Forbidden, "Only admins can change or delete shared saved replies");
        // Nor by making it personal: it is still the team's.
        await ProblemAsync(await _bob.PutAsJsonAsync($"/api/v1/saved-replies/{id}", new { title = "Hijacked", text = "x", shared = false }),
            HttpStatusCode.Forbidden, "Only admins can change or delete shared saved replies");
        await ProblemAsync(await _bob.DeleteAsync($"/api/v1/saved-replies/{id}"), HttpStatusCode.Forbidden, "Only admins");
        Assert.Equal("Greeting", Assert.Single(await ListAsync(_carl)).GetProperty("title").GetString());

        Assert.Equal(HttpStatusCode.OK, (await _admin.PutAsJsonAsync($"/api/v1/saved-replies/{id}", new { title = "Greeting (all bots)", text = "Hi", shared = true })).StatusCode);
        Assert.Equal(JsonValueKind.Null, Assert.Single(await ListAsync(_bob)).GetProperty("botId").ValueKind);
        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/api/v1/saved-replies/{id}")).StatusCode);
        Assert.Empty(await ListAsync(_bob));
    }

    [Fact]
    public async Task Another_users_personal_reply_does_not_exist_for_the_caller_even_for_an_admin()
    {
        var id = (await (await _bob.PostAsJsonAsync("/api/v1/saved-replies", new { title = "Bob's", text = "private", shared = false }))
            .Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

        foreach (var other in new[] { _carl, _admin })
        {
            Assert.Empty(await ListAsync(other));
            await ProblemAsync(await other.PutAsJsonAsync($"/api/v1/saved-replies/{id}", new { title = "Mine now", text = "x", shared = false }),
                HttpStatusCode.NotFound, $"There is no saved reply {id}");
            await ProblemAsync(await other.DeleteAsync($"/api/v1/saved-replies/{id}"), HttpStatusCode.NotFound, $"There is no saved reply {id}");
        }
        Assert.Equal("private", Assert.Single(await ListAsync(_bob)).GetProperty("text").GetString());
    }

    [Fact]
    public async Task Bad_input_is_refused_with_a_title_in_words_and_nothing_is_stored()
    {
        await ProblemAsync(await _bob.PostAsJsonAsync("/api/v1/saved-replies", new { title = " ", text = "x" }), HttpStatusCode.BadRequest, "needs a title");
        await ProblemAsync(await _bob.PostAsJsonAsync("/api/v1/saved-replies", new { text = "x" }), HttpStatusCode.BadRequest, "needs a title");
        await ProblemAsync(await _bob.PostAsJsonAsync("/api/v1/saved-replies", new { title = new string('t', 201), text = "x" }),
            HttpStatusCode.BadRequest, "201 characters long; a saved reply's title can have at most 200");
        await ProblemAsync(await _bob.PostAsJsonAsync("/api/v1/saved-replies", new { title = "Empty" }), HttpStatusCode.BadRequest, "needs some text");
        await ProblemAsync(await _bob.PostAsJsonAsync("/api/v1/saved-replies", new { title = "Long", text = new string('x', 20_001) }),
            HttpStatusCode.BadRequest, "at most 20000");
        var unknownBot = Guid.NewGuid();
        await ProblemAsync(await _bob.PostAsJsonAsync("/api/v1/saved-replies", new { title = "Lost", text = "x", botId = unknownBot }),
            HttpStatusCode.BadRequest, $"There is no bot {unknownBot}");
        await ProblemAsync(await _bob.PostAsync("/api/v1/saved-replies", new StringContent("{\"title\": ", System.Text.Encoding.UTF8, "application/json")),
            HttpStatusCode.BadRequest, "could not be read");
        await ProblemAsync(await _bob.PostAsync("/api/v1/saved-replies", new StringContent("{\"title\": \"T\", \"text\": \"x\", \"shared\": \"yes\"}",
            System.Text.Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, "could not be read");
        await ProblemAsync(await _bob.PutAsJsonAsync("/api/v1/saved-replies/987654", new { title = "T", text = "x" }), HttpStatusCode.NotFound, "no saved reply 987654");

        var id = (await (await _bob.PostAsJsonAsync("/api/v1/saved-replies", new { title = "Kept", text = "x" })).Content.ReadFromJsonAsync<JsonElement>())
            .GetProperty("id").GetInt64();
        await ProblemAsync(await _bob.PutAsJsonAsync($"/api/v1/saved-replies/{id}", new { title = "", text = "y" }), HttpStatusCode.BadRequest, "needs a title");
        Assert.Equal(["Kept"], (await ListAsync(_bob)).Select(r => r.GetProperty("title").GetString()));
        await using var db = _app.Database.OpenContext();
        Assert.Equal(1, await db.SavedReplies.CountAsync());
    }

    [Fact]
    public async Task Every_route_needs_a_token()
    {
        var anonymous = _app.CreateApiClient(token: null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/saved-replies")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("/api/v1/saved-replies", new { title = "T", text = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PutAsJsonAsync("/api/v1/saved-replies/1", new { title = "T", text = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.DeleteAsync("/api/v1/saved-replies/1")).StatusCode);
        await using var db = _app.Database.OpenContext();
        Assert.Equal(0, await db.SavedReplies.CountAsync());
    }

    [Fact]
    public async Task The_list_searches_by_q()
    {
        foreach (var title in new[] { "Refund policy", "Late delivery" })
            (await _bob.PostAsJsonAsync("/api/v1/saved-replies", new { title, text = "x" })).EnsureSuccessStatusCode();
        var found = await _bob.GetFromJsonAsync<JsonElement[]>("/api/v1/saved-replies?q=refund");
        Assert.Equal(["Refund policy"], found!.Select(r => r.GetProperty("title").GetString()));
    }

    private static async Task<JsonElement[]> ListAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonElement[]>("/api/v1/saved-replies"))!;

    private async Task<string> UserIdAsync(string email)
    {
        await using var db = _app.Database.OpenContext();
        return (await db.Users.SingleAsync(u => u.Email == email)).Id;
    }

    private static async Task ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string titleContains)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(titleContains, problem.GetProperty("title").GetString());
    }
}
