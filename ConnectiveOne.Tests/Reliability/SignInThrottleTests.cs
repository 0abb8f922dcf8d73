using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ConnectiveOne.Core.Accounts;
using ConnectiveOne.Tests.TestSupport;

namespace ConnectiveOne.Tests.Reliability;

/// <summary>
/// Password guessing over a real socket, from several loopback addresses (127.0.0.x are all this machine): one address
/// is throttled after the configured number of attempts on the sign-in form and <c>POST /api/v1/tokens</c> together,
/// another address is not; and 5 wrong passwords for an account make only that address wait for it.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class SignInThrottleTests : IAsyncLifetime
{
    private const int PerMinute = 6;
    private readonly TestApp _app = new(settings: new Dictionary<string, string?> { ["ConnectiveOne:SignInAttemptsPerMinute"] = PerMinute.ToString() });

    public Task InitializeAsync()
    {
        _app.StartKestrel();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private HttpClient From(string localAddress) => LoopbackClient.From(_app.ServerAddress, localAddress);

    private static Task<HttpResponseMessage> TokenAsync(HttpClient client, string email, string password) =>
        client.PostAsJsonAsync("/api/v1/tokens", new { email, password, name = "guess" });

    [Fact]
    public async Task One_address_is_throttled_across_the_form_and_the_api_and_another_is_not()
    {
        var guesser = From("127.0.0.2");
        for (var i = 0; i < PerMinute / 2; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await TokenAsync(guesser, $"user{i}@example.test", "wrong-password")).StatusCode);
        for (var i = 0; i < PerMinute / 2; i++)
        {
            var page = await CookieSignIn.PostLoginAsync(guesser, $"other{i}@example.test", "wrong-password");
            Assert.Contains("The email or password is wrong.", await page.Content.ReadAsStringAsync());
        }

        // Over the limit: even the right password is refused from this address for now, in words.
        var api = await TokenAsync(guesser, TestApp.AdminEmail, TestApp.AdminPassword);
        Assert.Equal(HttpStatusCode.TooManyRequests, api.StatusCode);
        Assert.Equal("application/problem+json", api.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Too many sign-in attempts", (await api.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("title").GetString());
        Assert.NotNull(api.Headers.RetryAfter);
        var form = await CookieSignIn.PostLoginAsync(guesser, TestApp.AdminEmail, TestApp.AdminPassword);
        Assert.Equal(HttpStatusCode.TooManyRequests, form.StatusCode);
        Assert.Contains("Too many sign-in attempts from your network", await form.Content.ReadAsStringAsync());
        // Reading the form is not an attempt.
        Assert.Equal(HttpStatusCode.OK, (await guesser.GetAsync("/account/login")).StatusCode);

        // Someone else, elsewhere, signs in as usual.
        var colleague = From("127.0.0.3");
        Assert.Equal(HttpStatusCode.Created, (await TokenAsync(colleague, TestApp.AdminEmail, TestApp.AdminPassword)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await CookieSignIn.PostLoginAsync(colleague, TestApp.AdminEmail, TestApp.AdminPassword)).StatusCode);
    }

    [Fact]
    public async Task Five_wrong_passwords_from_one_address_make_that_address_wait_and_another_address_still_signs_in()
    {
        // The only admin: before, anyone anywhere could lock it for everyone with five wrong passwords.
        // Five wrong passwords on the form and the API together (six attempts fit this address's rate limit).
        var attacker = From("127.0.1.1");
        for (var i = 0; i < 4; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await TokenAsync(attacker, TestApp.AdminEmail, "guess-" + i)).StatusCode);
        var fifth = await CookieSignIn.PostLoginAsync(attacker, TestApp.AdminEmail, "guess-4");
        Assert.Contains(System.Net.WebUtility.HtmlEncode(SignInGuard.Refused), await fifth.Content.ReadAsStringAsync());

        // The pair now waits: even the right password is refused from there, in the same words as a wrong one.
        var right = await TokenAsync(attacker, TestApp.AdminEmail, TestApp.AdminPassword);
        Assert.Equal(HttpStatusCode.Unauthorized, right.StatusCode);
        Assert.Equal(SignInGuard.Refused, (await right.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("title").GetString());

        // The admin, elsewhere, is not locked out, on the form or the API.
        Assert.Equal(HttpStatusCode.Redirect, (await CookieSignIn.PostLoginAsync(From("127.0.2.1"), TestApp.AdminEmail, TestApp.AdminPassword)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await TokenAsync(From("127.0.2.2"), TestApp.AdminEmail, TestApp.AdminPassword)).StatusCode);
    }
}
