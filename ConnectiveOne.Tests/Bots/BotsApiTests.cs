using System.Net;
using System.Net.Http.Json;
using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Tests.Bots;

/// <summary>Bots and their Email channel through the HTTP API, against the app's database.</summary>
public sealed class BotsApiTests : IAsyncLifetime
{
    private readonly TestApp _app = new();
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        _client = _app.CreateApiClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Binding_an_address_moves_the_tickets_that_arrived_before_any_bot_had_it()
    {
        var address = await MailSeed.AddressAsync(_app, "support@acme.test", DomainStatus.Verified);
        var other = await MailSeed.AddressAsync(_app, "sales@acme.test", DomainStatus.Verified);
        var (early, _) = await MailSeed.TicketAsync(_app, address, "Before any bot");
        var (elsewhere, _) = await MailSeed.TicketAsync(_app, other, "Other address");
        var bot = await CreateBotAsync("Support");

        var bound = await _client.PutAsJsonAsync($"/api/v1/bots/{bot.Id}/email", new { addressId = address.Id });

        Assert.Equal(HttpStatusCode.OK, bound.StatusCode);
        Assert.Equal(new Bot(bot.Id, "Support", address.Id), await bound.Content.ReadFromJsonAsync<Bot>());
        await using var scope = _app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        Assert.Equal(bot.Id, (await db.Tickets.AsNoTracking().SingleAsync(t => t.Id == early.Id)).BotId);
        Assert.Null((await db.Tickets.AsNoTracking().SingleAsync(t => t.Id == elsewhere.Id)).BotId);
        Assert.Equal([new Bot(bot.Id, "Support", address.Id)], await _client.GetFromJsonAsync<List<Bot>>("/api/v1/bots"));
    }

    [Fact]
    public async Task An_address_held_by_another_bot_is_a_409_naming_that_bot_until_it_is_freed()
    {
        var address = await MailSeed.AddressAsync(_app, "support@acme.test", DomainStatus.Verified);
        var first = await CreateBotAsync("Front desk");
        var second = await CreateBotAsync("Billing");
        (await _client.PutAsJsonAsync($"/api/v1/bots/{first.Id}/email", new { addressId = address.Id })).EnsureSuccessStatusCode();

        var taken = await _client.PutAsJsonAsync($"/api/v1/bots/{second.Id}/email", new { addressId = address.Id });

        Assert.Equal(HttpStatusCode.Conflict, taken.StatusCode);
        var title = (await taken.Content.ReadFromJsonAsync<Problem>())!.Title;
        Assert.Equal("support@acme.test is used by the bot Front desk. Remove the email channel from bot Front desk, then choose it here.", title);

        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/api/v1/bots/{first.Id}/email")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.PutAsJsonAsync($"/api/v1/bots/{second.Id}/email", new { addressId = address.Id })).StatusCode);
    }

    [Fact]
    public async Task Only_verified_addresses_are_accepted_and_unknown_ids_are_404()
    {
        var pending = await MailSeed.AddressAsync(_app, "help@pending.test", DomainStatus.Pending);
        var forwarded = await MailSeed.AddressAsync(_app, "info@pending.test", DomainStatus.Pending, ForwardingStatus.Confirmed);
        var bot = await CreateBotAsync("Helpdesk");

        var unverified = await _client.PutAsJsonAsync($"/api/v1/bots/{bot.Id}/email", new { addressId = pending.Id });
        var confirmed = await _client.PutAsJsonAsync($"/api/v1/bots/{bot.Id}/email", new { addressId = forwarded.Id });
        var noAddress = await _client.PutAsJsonAsync($"/api/v1/bots/{bot.Id}/email", new { addressId = Guid.NewGuid() });
        var noBot = await _client.PutAsJsonAsync($"/api/v1/bots/{Guid.NewGuid()}/email", new { addressId = forwarded.Id });
        var noBotDelete = await _client.DeleteAsync($"/api/v1/bots/{Guid.NewGuid()}/email");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, unverified.StatusCode);
        Assert.Contains("help@pending.test is not verified", (await unverified.Content.ReadFromJsonAsync<Problem>())!.Title);
        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, noAddress.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, noBot.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, noBotDelete.StatusCode);
    }

    [Fact]
    public async Task Bot_names_are_required_and_unique()
    {
        await CreateBotAsync("Support");

        var empty = await _client.PostAsJsonAsync("/api/v1/bots", new { name = "  " });
        var twice = await _client.PostAsJsonAsync("/api/v1/bots", new { name = "support" });

        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, twice.StatusCode);
    }

    [Fact]
    public async Task Concurrent_requests_for_one_address_leave_exactly_one_bot_holding_it()
    {
        var address = await MailSeed.AddressAsync(_app, "support@acme.test", DomainStatus.Verified);
        var bots = new List<Bot>();
        for (var i = 0; i < 8; i++)
            bots.Add(await CreateBotAsync($"Bot {i}"));

        using var start = new ManualResetEventSlim();
        var requests = bots.Select(b => Task.Run(async () =>
        {
            start.Wait();
            return await _app.CreateApiClient().PutAsJsonAsync($"/api/v1/bots/{b.Id}/email", new { addressId = address.Id });
        })).ToList();
        start.Set();
        var responses = await Task.WhenAll(requests);

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.OK);
        Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.OK), r => Assert.Equal(HttpStatusCode.Conflict, r.StatusCode));
        var holders = (await _client.GetFromJsonAsync<List<Bot>>("/api/v1/bots"))!.Where(b => b.EmailAddressId == address.Id).ToList();
        var holder = Assert.Single(holders);
        foreach (var conflict in responses.Where(r => r.StatusCode == HttpStatusCode.Conflict))
            Assert.Contains($"used by the bot {holder.Name}", (await conflict.Content.ReadFromJsonAsync<Problem>())!.Title);
    }

    private async Task<Bot> CreateBotAsync(string name)
    {
        var response = await _client.PostAsJsonAsync("/api/v1/bots", new { name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Bot>())!;
    }

    private sealed record Bot(Guid Id, string Name, Guid? EmailAddressId);
    private sealed record Problem(string Title);
}
