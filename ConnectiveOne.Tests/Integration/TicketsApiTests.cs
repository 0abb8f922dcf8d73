using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Tests.TestSupport;

namespace ConnectiveOne.Tests.Integration;

/// <summary>The ticket routes of API.md as operators, admins and strangers use them.</summary>
public sealed class TicketsApiTests : IAsyncLifetime
{
    private readonly TestApp _app = new(settings: new Dictionary<string, string?> { ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain });
    private long _ticketId;
    private string _operatorToken = "";

    public async Task InitializeAsync()
    {
        var address = await MailSeed.AddressAsync(_app, "support@acme.test", DomainStatus.Pending);
        _ticketId = (await MailSeed.TicketAsync(_app, address)).Ticket.Id;
        _operatorToken = await _app.CreateUserWithTokenAsync("op@example.test", "Operator");
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Anonymous_callers_get_401_on_every_ticket_route()
    {
        var anonymous = _app.CreateApiClient(token: null);
        foreach (var request in new[]
                 {
                     new HttpRequestMessage(HttpMethod.Get, "/api/v1/tickets"),
                     new HttpRequestMessage(HttpMethod.Get, $"/api/v1/tickets/{_ticketId}"),
                     new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/tickets/{_ticketId}") { Content = JsonContent.Create(new { status = "Resolved" }) },
                     new HttpRequestMessage(HttpMethod.Post, $"/api/v1/tickets/{_ticketId}/replies") { Content = JsonContent.Create(new { text = "x" }) },
                     new HttpRequestMessage(HttpMethod.Get, "/api/v1/attachments/1"),
                     new HttpRequestMessage(HttpMethod.Get, "/api/v1/messages/1/raw"),
                 })
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.SendAsync(request)).StatusCode);
    }

    [Theory]
    [InlineData("operator")]
    [InlineData("admin")]
    public async Task Operators_and_admins_change_status_and_assignee(string who)
    {
        var client = _app.CreateApiClient(who == "admin" ? TestApp.AdminToken : _operatorToken);
        var users = await _app.CreateApiClient().GetFromJsonAsync<JsonElement>("/api/v1/users");
        var op = users.EnumerateArray().Single(u => u.GetProperty("email").GetString() == "op@example.test").GetProperty("id").GetString();

        var patched = await client.PatchAsJsonAsync($"/api/v1/tickets/{_ticketId}", new { status = "pending", assigneeId = op });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var ticket = await patched.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Pending", ticket.GetProperty("status").GetString());
        Assert.Equal(op, ticket.GetProperty("assigneeId").GetString());

        var mine = await client.GetFromJsonAsync<JsonElement>("/api/v1/tickets?status=Pending");
        Assert.Equal(1, mine.GetProperty("total").GetInt32());

        var unassigned = await client.PatchAsJsonAsync($"/api/v1/tickets/{_ticketId}", new { assigneeId = "" });
        Assert.Equal(JsonValueKind.Null, (await unassigned.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("assigneeId").ValueKind);
    }

    [Fact]
    public async Task Bad_changes_are_refused_in_words()
    {
        var client = _app.CreateApiClient(_operatorToken);
        await AssertProblemAsync(await client.PatchAsJsonAsync($"/api/v1/tickets/{_ticketId}", new { status = "Closed" }), 400, "Open, Pending or Resolved");
        await AssertProblemAsync(await client.PatchAsJsonAsync($"/api/v1/tickets/{_ticketId}", new { assigneeId = "nobody" }), 400, "no active user");
        await AssertProblemAsync(await client.PatchAsJsonAsync($"/api/v1/tickets/{_ticketId}", new { }), 400, "Nothing to change");
        await AssertProblemAsync(await client.PatchAsJsonAsync("/api/v1/tickets/999999", new { status = "Open" }), 404, "no ticket #999999");
        await AssertProblemAsync(await client.PostAsJsonAsync($"/api/v1/tickets/{_ticketId}/replies", new { text = " " }), 400, "needs some text");
        await AssertProblemAsync(await client.PostAsJsonAsync("/api/v1/tickets/999999/replies", new { text = "hi" }), 404, "no ticket #999999");
    }

    [Fact]
    public async Task Replies_by_json_and_multipart_are_queued_with_their_attachments()
    {
        var client = _app.CreateApiClient(_operatorToken);
        var json = await client.PostAsJsonAsync($"/api/v1/tickets/{_ticketId}/replies", new { text = "We are on it." });
        Assert.Equal(HttpStatusCode.Accepted, json.StatusCode);
        var jsonId = (await json.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("messageId").GetInt64();

        using var form = new MultipartFormDataContent();
        form.Add(new StringContent("Here are the files."), "text");
        var pdf = new ByteArrayContent([1, 2, 3, 4]);
        pdf.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        form.Add(pdf, "files", "a.pdf");
        var text = new ByteArrayContent("notes"u8.ToArray());
        text.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        form.Add(text, "files", "b.txt");
        var multipart = await client.PostAsync($"/api/v1/tickets/{_ticketId}/replies", form);
        Assert.Equal(HttpStatusCode.Accepted, multipart.StatusCode);
        var formId = (await multipart.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("messageId").GetInt64();

        var ticket = await client.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{_ticketId}");
        var messages = ticket.GetProperty("messages").EnumerateArray().ToList();
        var first = messages.Single(m => m.GetProperty("id").GetInt64() == jsonId);
        Assert.Equal("Outbound", first.GetProperty("direction").GetString());
        Assert.Equal("Queued", first.GetProperty("delivery").GetString());
        Assert.Contains("No outbound relay configured", first.GetProperty("deliveryDetail").GetString());
        var second = messages.Single(m => m.GetProperty("id").GetInt64() == formId);
        var names = second.GetProperty("attachments").EnumerateArray().Select(a => a.GetProperty("fileName").GetString()).ToList();
        Assert.Equal(["a.pdf", "b.txt"], names);
        var download = await client.GetAsync($"/api/v1/attachments/{second.GetProperty("attachments")[0].GetProperty("id").GetInt64()}");
        Assert.Equal([1, 2, 3, 4], await download.Content.ReadAsByteArrayAsync());
        Assert.Equal("attachment", download.Content.Headers.ContentDisposition?.DispositionType);
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, int status, string title)
    {
        Assert.Equal(status, (int)response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(title, problem.GetProperty("title").GetString(), StringComparison.OrdinalIgnoreCase);
    }
}
