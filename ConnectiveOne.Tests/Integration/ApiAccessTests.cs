using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ConnectiveOne.Tests.TestSupport;

namespace ConnectiveOne.Tests.Integration;

public sealed class ApiAccessTests : IAsyncLifetime
{
    private readonly TestApp _app = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Health_is_public()
    {
        var response = await _app.CreateApiClient(token: null).GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Users_need_a_token_and_the_bootstrap_token_is_an_admin()
    {
        var anonymous = await _app.CreateApiClient(token: null).GetAsync("/api/v1/users");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        await AssertProblemAsync(anonymous, "Sign-in required");

        var wrong = await _app.CreateApiClient("c1_not_a_real_token").GetAsync("/api/v1/users");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);

        var admin = await _app.CreateApiClient().GetFromJsonAsync<JsonElement>("/api/v1/users");
        var emails = admin.EnumerateArray().Select(u => u.GetProperty("email").GetString()).ToList();
        Assert.Contains(TestApp.AdminEmail, emails);
    }

    [Fact]
    public async Task An_operator_created_through_the_api_gets_403_on_admin_routes()
    {
        var token = await _app.CreateUserWithTokenAsync("op@example.test", "Operator");
        var response = await _app.CreateApiClient(token).GetAsync("/api/v1/users");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        await AssertProblemAsync(response, "Not allowed");

        // The operator may still list their own tokens.
        Assert.Equal(HttpStatusCode.OK, (await _app.CreateApiClient(token).GetAsync("/api/v1/tokens")).StatusCode);
    }

    [Fact]
    public async Task Creating_users_reports_bad_input_and_duplicates_in_words()
    {
        var admin = _app.CreateApiClient();
        var invalid = await admin.PostAsJsonAsync("/api/v1/users", new { email = "not-an-address", password = "long-enough-1", role = "Operator" });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        await AssertProblemAsync(invalid, "not an email address");

        var badRole = await admin.PostAsJsonAsync("/api/v1/users", new { email = "x@example.test", password = "long-enough-1", role = "Root" });
        await AssertProblemAsync(badRole, "Admin or Operator");

        var shortPassword = await admin.PostAsJsonAsync("/api/v1/users", new { email = "x@example.test", password = "short", role = "Operator" });
        Assert.Equal(HttpStatusCode.BadRequest, shortPassword.StatusCode);
        await AssertProblemAsync(shortPassword, "at least 10 characters");

        var created = await admin.PostAsJsonAsync("/api/v1/users", new { email = "x@example.test", password = "long-enough-1", role = "operator" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var duplicate = await admin.PostAsJsonAsync("/api/v1/users", new { email = "X@example.test", password = "long-enough-1", role = "Operator" });
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        await AssertProblemAsync(duplicate, "already exists");
    }

    [Fact]
    public async Task Tokens_are_shown_once_stored_hashed_and_stop_working_when_revoked()
    {
        var anonymous = _app.CreateApiClient(token: null);
        var created = await anonymous.PostAsJsonAsync("/api/v1/tokens",
            new { email = TestApp.AdminEmail, password = TestApp.AdminPassword, name = "script" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var token = body.GetProperty("token").GetString()!;
        var id = body.GetProperty("id").GetString()!;

        var client = _app.CreateApiClient(token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/users")).StatusCode);

        var listed = await client.GetStringAsync("/api/v1/tokens");
        Assert.DoesNotContain(token, listed);
        Assert.DoesNotContain(token, Encoding.UTF8.GetString(await _app.Database.ContentAsync()));

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/tokens/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/users")).StatusCode);
    }

    [Fact]
    public async Task Token_creation_checks_the_password_and_makes_the_address_wait_after_repeated_failures()
    {
        var anonymous = _app.CreateApiClient(token: null);
        for (var i = 0; i < 5; i++)
        {
            var wrong = await anonymous.PostAsJsonAsync("/api/v1/tokens", new { email = TestApp.AdminEmail, password = "wrong-password", name = "x" });
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }
        // The right password is refused now too, in the same words as a wrong one (nothing tells "waiting" apart).
        var waiting = await anonymous.PostAsJsonAsync("/api/v1/tokens",
            new { email = TestApp.AdminEmail, password = TestApp.AdminPassword, name = "x" });
        Assert.Equal(HttpStatusCode.Unauthorized, waiting.StatusCode);
        await AssertProblemAsync(waiting, ConnectiveOne.Core.Accounts.SignInGuard.Refused);
    }

    [Fact]
    public async Task Deactivated_users_tokens_stop_working_and_the_last_admin_is_protected()
    {
        var token = await _app.CreateUserWithTokenAsync("leaving@example.test", "Operator");
        var admin = _app.CreateApiClient();
        var users = await admin.GetFromJsonAsync<JsonElement>("/api/v1/users");
        var leaving = users.EnumerateArray().Single(u => u.GetProperty("email").GetString() == "leaving@example.test").GetProperty("id").GetString();
        var self = users.EnumerateArray().Single(u => u.GetProperty("email").GetString() == TestApp.AdminEmail).GetProperty("id").GetString();

        var off = await admin.PatchAsJsonAsync($"/api/v1/users/{leaving}", new { isActive = false });
        Assert.Equal(HttpStatusCode.OK, off.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _app.CreateApiClient(token).GetAsync("/api/v1/tokens")).StatusCode);

        var lastAdmin = await admin.PatchAsJsonAsync($"/api/v1/users/{self}", new { role = "Operator" });
        Assert.Equal(HttpStatusCode.Conflict, lastAdmin.StatusCode);
        await AssertProblemAsync(lastAdmin, "last active admin");
    }

    [Fact]
    public async Task Unknown_api_routes_answer_with_problem_details()
    {
        var response = await _app.CreateApiClient().GetAsync("/api/v1/no-such-thing");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task The_openapi_document_lists_the_api()
    {
        var document = await _app.CreateApiClient().GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/api/v1/users", paths);
        Assert.Contains("/api/v1/tokens", paths);
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, string titleContains)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(titleContains, problem.GetProperty("title").GetString(), StringComparison.OrdinalIgnoreCase);
    }
}
