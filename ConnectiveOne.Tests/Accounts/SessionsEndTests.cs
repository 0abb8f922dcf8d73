using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Threading.Channels;
using ConnectiveOne.Core.Accounts;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace ConnectiveOne.Tests.Accounts;

/// <summary>
/// Sessions end with the credentials they were made with, over real sockets: browser sessions (cookies from the
/// sign-in form) and live hub connections (cookie or token) of the user whose password changed, who signed out
/// everywhere or whose token was revoked; nobody else's.
/// </summary>
public sealed class SessionsEndTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>The bound for ending open sessions.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);
    private const string PatPassword = "pat-password-1";
    private readonly TestApp _app = new(settings: new Dictionary<string, string?> { ["ConnectiveOne:SignInAttemptsPerMinute"] = "1000" });

    public Task InitializeAsync()
    {
        _app.StartKestrel();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private sealed record Browser(HttpClient Client, CookieContainer Cookies);

    private async Task<Browser> SignedInAsync(string email, string password, string address = "127.0.0.1")
    {
        var cookies = new CookieContainer();
        var client = LoopbackClient.From(_app.ServerAddress, address, cookies);
        await CookieSignIn.SignInAsync(client, email, password);
        return new Browser(client, cookies);
    }

    private HubConnection Hub(Action<Microsoft.AspNetCore.Http.Connections.Client.HttpConnectionOptions> configure) =>
        new HubConnectionBuilder().WithUrl($"{_app.ServerAddress}/hubs/live", configure).Build();

    private static Task<TimeSpan> ClosedAsync(HubConnection connection, Stopwatch since)
    {
        var closed = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.Closed += _ =>
        {
            closed.TrySetResult(since.Elapsed);
            return Task.CompletedTask;
        };
        return closed.Task;
    }

    private static async Task<TimeSpan> WithinBoundAsync(Task<TimeSpan> closed, string what)
    {
        // Generous outer wait so a failure reports the time it took; the bound itself is asserted on that time.
        var ended = await closed.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(ended <= Bound, $"{what} ended after {ended.TotalSeconds:F1} s (bound {Bound.TotalSeconds} s)");
        return ended;
    }

    [Fact]
    public async Task Sign_out_everywhere_ends_the_users_other_hub_connections_and_a_revoked_token_ends_its_own()
    {
        var patToken = await _app.CreateUserWithTokenAsync("pat@example.test", "Operator", PatPassword);
        var samToken = await _app.CreateUserWithTokenAsync("sam@example.test", "Operator", "sam-password-1");
        var laptop = await SignedInAsync("pat@example.test", PatPassword);
        var phone = await SignedInAsync("pat@example.test", PatPassword);

        await using var phoneHub = Hub(o => o.Cookies = phone.Cookies);
        await using var patTokenHub = Hub(o => o.AccessTokenProvider = () => Task.FromResult<string?>(patToken));
        await using var samHub = Hub(o => o.AccessTokenProvider = () => Task.FromResult<string?>(samToken));
        var received = Channel.CreateUnbounded<string>();
        patTokenHub.On<Payload>("ticketCreated", p => received.Writer.TryWrite("pat-token " + p.Id));
        samHub.On<Payload>("ticketCreated", p => received.Writer.TryWrite("sam " + p.Id));
        await Task.WhenAll(phoneHub.StartAsync(), patTokenHub.StartAsync(), samHub.StartAsync());

        var since = Stopwatch.StartNew();
        var phoneClosed = ClosedAsync(phoneHub, since);
        var page = await CookieSignIn.FormAsync(laptop.Client, "/account/password", "sign-out-everywhere", []);
        since.Restart();
        var answer = await laptop.Client.PostAsync("/account/password", page);
        Assert.Contains("All your other sessions have been signed out.", await answer.Content.ReadAsStringAsync());
        var ended = await WithinBoundAsync(phoneClosed, "The phone's hub connection");
        output.WriteLine($"cookie hub connection ended {ended.TotalSeconds:F2} s after sign-out everywhere");

        // Tokens are not sessions: pat's token connection stays, as does sam's.
        _app.Services.GetRequiredService<ChangeNotifier>().Publish(new ChangeEvent(ChangeKind.TicketCreated, "after-sign-out"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var got = new[] { await received.Reader.ReadAsync(timeout.Token), await received.Reader.ReadAsync(timeout.Token) };
        Assert.Equal(["pat-token after-sign-out", "sam after-sign-out"], got.Order());

        // Revoking the token ends the connection made with it.
        var tokenClosed = ClosedAsync(patTokenHub, since);
        var patApi = _app.CreateApiClient(patToken);
        var id = (await patApi.GetFromJsonAsync<List<TokenRow>>("/api/v1/tokens"))!.Single(t => t.RevokedAt is null).Id;
        since.Restart();
        Assert.Equal(HttpStatusCode.NoContent, (await patApi.DeleteAsync($"/api/v1/tokens/{id}")).StatusCode);
        ended = await WithinBoundAsync(tokenClosed, "The revoked token's hub connection");
        output.WriteLine($"token hub connection ended {ended.TotalSeconds:F2} s after revocation");
        Assert.Equal(HubConnectionState.Connected, samHub.State);
    }

    [Fact]
    public async Task A_password_change_ends_the_other_sessions_and_revokes_the_tokens_unless_kept()
    {
        var patToken = await _app.CreateUserWithTokenAsync("pat@example.test", "Operator", PatPassword);
        var samToken = await _app.CreateUserWithTokenAsync("sam@example.test", "Operator", "sam-password-1");
        var laptop = await SignedInAsync("pat@example.test", PatPassword);
        var phone = await SignedInAsync("pat@example.test", PatPassword);
        var sam = await SignedInAsync("sam@example.test", "sam-password-1");

        var answer = await PostPasswordAsync(laptop, PatPassword, "pat-password-2", keepTokens: false);
        Assert.Contains("Your password has been changed.", answer);

        // The phone's cookie fails its next stamp check (at most 5 s after it was issued): it is sent to sign-in.
        var since = Stopwatch.StartNew();
        while ((await phone.Client.GetAsync("/account/password")).StatusCode == HttpStatusCode.OK)
        {
            Assert.True(since.Elapsed < TimeSpan.FromSeconds(30), "The phone is still signed in after the password change.");
            await Task.Delay(100);
        }
        Assert.Equal(HttpStatusCode.OK, (await laptop.Client.GetAsync("/account/password")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await sam.Client.GetAsync("/account/password")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _app.CreateApiClient(patToken).GetAsync("/api/v1/tokens")).StatusCode);

        // Sam keeps his tokens on purpose.
        Assert.Contains("your API tokens still work", await PostPasswordAsync(sam, "sam-password-1", "sam-password-2", keepTokens: true));
        Assert.Equal(HttpStatusCode.OK, (await _app.CreateApiClient(samToken).GetAsync("/api/v1/tokens")).StatusCode);
    }

    [Fact]
    public async Task A_sign_in_form_opened_while_an_ended_sessions_cookie_still_passes_signs_in_after_that_cookie_fails()
    {
        await _app.CreateUserWithTokenAsync("pat@example.test", "Operator", PatPassword);
        var laptop = await SignedInAsync("pat@example.test", PatPassword);
        var users = await _app.CreateApiClient().GetFromJsonAsync<List<UserRow>>("/api/v1/users");
        var pat = users!.Single(u => u.Email == "pat@example.test");
        // An admin promotes Pat: a new security stamp, so the laptop's cookie fails its next check (5 s after it was issued).
        (await _app.CreateApiClient().PatchAsJsonAsync($"/api/v1/users/{pat.Id}", new { role = "Admin" })).EnsureSuccessStatusCode();
        var since = Stopwatch.StartNew();
        var stillPasses = (await laptop.Client.GetAsync("/account/password")).StatusCode == HttpStatusCode.OK;
        var form = await CookieSignIn.LoginFormAsync(laptop.Client, "pat@example.test", PatPassword);
        output.WriteLine($"form fetched {since.Elapsed.TotalSeconds:F2} s after the change; the old cookie still passed then: {stillPasses}");

        // Posted once the old cookie has certainly had its check: before the form ended the old session, its token was
        // made for that session and the post was refused with a bare 400.
        await Task.Delay(Bound + TimeSpan.FromSeconds(1) - since.Elapsed is { Ticks: > 0 } rest ? rest : TimeSpan.Zero);
        var answer = await laptop.Client.PostAsync("/account/login", form);
        Assert.True(answer.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Found,
            $"Signing in again answered {(int)answer.StatusCode}: {await answer.Content.ReadAsStringAsync()}");
        Assert.Equal(HttpStatusCode.OK, (await laptop.Client.GetAsync("/settings")).StatusCode);
    }

    private sealed record UserRow(string Id, string Email);

    [Fact]
    public async Task Guessing_the_current_password_on_an_open_session_waits_like_signing_in()
    {
        await _app.CreateUserWithTokenAsync("pat@example.test", "Operator", PatPassword);
        var guesser = await SignedInAsync("pat@example.test", PatPassword, "127.0.9.1");
        for (var i = 0; i < 5; i++)
            Assert.Contains(CredentialChanges.CurrentPasswordWrong, await PostPasswordAsync(guesser, "guess-" + i, "pat-password-2", false));

        // Now even the right one is refused from this address, and the password is unchanged.
        Assert.Contains(CredentialChanges.CurrentPasswordWrong, await PostPasswordAsync(guesser, PatPassword, "pat-password-2", false));
        var elsewhere = await _app.CreateApiClient(null).PostAsJsonAsync("/api/v1/tokens",
            new { email = "pat@example.test", password = PatPassword, name = "check" });
        Assert.Equal(HttpStatusCode.Created, elsewhere.StatusCode);
    }

    private static async Task<string> PostPasswordAsync(Browser browser, string current, string next, bool keepTokens)
    {
        var fields = new Dictionary<string, string> { ["Input.Current"] = current, ["Input.New"] = next, ["Input.Confirm"] = next };
        if (keepTokens)
            fields["Input.KeepTokens"] = "true";
        var form = await CookieSignIn.FormAsync(browser.Client, "/account/password", "change-password", fields);
        var response = await browser.Client.PostAsync("/account/password", form);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
    }

    public sealed record Payload(string Id);

    private sealed record TokenRow(Guid Id, DateTimeOffset? RevokedAt);
}
