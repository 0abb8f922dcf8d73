using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Bots;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.SavedReplies;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Tests.SavedReplies;

/// <summary>
/// Which saved replies are offered where (the ticket's bot or all bots, shared or the user's own), what a search finds, and
/// using one: variables filled from the ticket, the count goes up, and a reply not offered there cannot be used.
/// </summary>
public sealed class SavedReplyServiceTests : IAsyncLifetime
{
    private readonly TestApp _app = new();
    private string _ann = "", _bob = "";
    private Guid _support, _sales;
    private CorporateAddress _address = null!;

    public async Task InitializeAsync()
    {
        await _app.CreateUserWithTokenAsync("ann@example.test", "Admin");
        await _app.CreateUserWithTokenAsync("bob@example.test", "Operator");
        await using var db = _app.Database.OpenContext();
        _ann = (await db.Users.SingleAsync(u => u.Email == "ann@example.test")).Id;
        var bob = await db.Users.SingleAsync(u => u.Email == "bob@example.test");
        bob.DisplayName = "Bob Baker";
        _bob = bob.Id;
        db.Bots.AddRange(new Bot { Name = "Support" }, new Bot { Name = "Sales" });
        await db.SaveChangesAsync();
        _support = (await db.Bots.SingleAsync(b => b.Name == "Support")).Id;
        _sales = (await db.Bots.SingleAsync(b => b.Name == "Sales")).Id;
        _address = await MailSeed.AddressAsync(_app, "help@acme.test", DomainStatus.Verified);
        (await db.Addresses.SingleAsync(a => a.Id == _address.Id)).DisplayName = "Acme Help";
        await db.SaveChangesAsync();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<T> WithAsync<T>(Func<SavedReplyService, Task<T>> work)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<SavedReplyService>());
    }

    private async Task<long> CreateAsync(string title, string text, Guid? bot, bool shared, string owner)
    {
        var result = await WithAsync(s => s.CreateAsync(new SavedReplyInput(title, text, bot, shared), new SavedReplyActor(owner, owner == _ann)));
        Assert.True(result.Ok, result.Error);
        return result.Reply!.Id;
    }

    [Fact]
    public async Task A_ticket_offers_its_bots_shared_replies_the_all_bots_ones_and_only_the_users_own_personal_ones()
    {
        await CreateAsync("Refund (all bots)", "a", null, shared: true, _ann);
        await CreateAsync("Refund (Support)", "b", _support, shared: true, _ann);
        await CreateAsync("Refund (Sales)", "c", _sales, shared: true, _ann);
        await CreateAsync("Ann's own", "d", null, shared: false, _ann);
        await CreateAsync("Bob's own", "e", null, shared: false, _bob);
        await CreateAsync("Bob's own for Sales", "f", _sales, shared: false, _bob);
        var supportTicket = (await MailSeed.TicketAsync(_app, _address, botId: _support)).Ticket.Id;
        var unservedTicket = (await MailSeed.TicketAsync(_app, _address)).Ticket.Id;

        async Task<string[]> OfferedAsync(long ticket, string user) =>
            (await WithAsync(s => s.OfferedAsync(ticket, user, null))).Select(r => r.Title).Order(StringComparer.Ordinal).ToArray();

        Assert.Equal(["Bob's own", "Refund (Support)", "Refund (all bots)"], await OfferedAsync(supportTicket, _bob));
        Assert.Equal(["Ann's own", "Refund (Support)", "Refund (all bots)"], await OfferedAsync(supportTicket, _ann));
        // A ticket no bot serves yet gets only what is meant for every bot.
        Assert.Equal(["Bob's own", "Refund (all bots)"], await OfferedAsync(unservedTicket, _bob));
        Assert.Empty(await WithAsync(s => s.OfferedAsync(987654, _bob, null)));
        // The management list: everything shared, and one's own personal ones only.
        Assert.Equal(["Bob's own", "Bob's own for Sales", "Refund (Sales)", "Refund (Support)", "Refund (all bots)"],
            (await WithAsync(s => s.ListAsync(_bob))).Select(r => r.Title).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_search_matches_every_word_in_the_title_or_text_and_ranks_title_starts_then_the_most_used()
    {
        await CreateAsync("Late delivery", "Your parcel is on its way.", null, shared: true, _ann);
        await CreateAsync("Refund policy", "Refunds take 5 days.", null, shared: true, _ann);
        var where = await CreateAsync("Where is my refund", "Refund sent, see the parcel tracking.", null, shared: true, _ann);
        var ticket = (await MailSeed.TicketAsync(_app, _address, botId: _support)).Ticket.Id;

        async Task<string[]> SearchAsync(string q) => (await WithAsync(s => s.OfferedAsync(ticket, _bob, q))).Select(r => r.Title).ToArray();

        Assert.Equal(["Refund policy", "Where is my refund"], await SearchAsync("ref"));
        Assert.Equal(["Where is my refund"], await SearchAsync("refund parcel"));
        Assert.Equal(["Late delivery", "Where is my refund"], await SearchAsync("PARCEL"));
        Assert.Empty(await SearchAsync("invoice"));
        // With no words, the most used first (else by title: it would be last).
        Assert.Equal("Late delivery", (await SearchAsync("")).First());
        await WithAsync(s => s.UseAsync(where, ticket, _bob));
        Assert.Equal(["Where is my refund", "Late delivery", "Refund policy"], await SearchAsync(""));
    }

    [Fact]
    public async Task Using_a_reply_fills_its_variables_from_the_ticket_and_counts_the_use()
    {
        var id = await CreateAsync("Greeting", "Hello {customer.firstName}, about #{ticket.number}: {operator.name}, {address.name} ({customer.name})",
            _support, shared: true, _ann);
        var ticket = (await MailSeed.TicketAsync(_app, _address, botId: _support)).Ticket.Id;

        var text = await WithAsync(s => s.UseAsync(id, ticket, _bob));
        var again = await WithAsync(s => s.UseAsync(id, ticket, _ann));

        Assert.Equal($"Hello Carol, about #{ticket}: Bob Baker, Acme Help (Carol Customer)", text);
        Assert.Equal($"Hello Carol, about #{ticket}: ann@example.test, Acme Help (Carol Customer)", again);
        Assert.Equal(2, (await WithAsync(s => s.ListAsync(_bob))).Single().UseCount);
    }

    [Fact]
    public async Task A_reply_not_offered_on_the_ticket_cannot_be_used_and_is_not_counted()
    {
        var sales = await CreateAsync("Sales only", "x", _sales, shared: true, _ann);
        var annsOwn = await CreateAsync("Ann's own", "y", null, shared: false, _ann);
        var ticket = (await MailSeed.TicketAsync(_app, _address, botId: _support)).Ticket.Id;

        Assert.Null(await WithAsync(s => s.UseAsync(sales, ticket, _bob)));
        Assert.Null(await WithAsync(s => s.UseAsync(annsOwn, ticket, _bob)));
        Assert.Null(await WithAsync(s => s.UseAsync(annsOwn, 987654, _ann)));
        Assert.Equal("y", await WithAsync(s => s.UseAsync(annsOwn, ticket, _ann)));

        await using var db = _app.Database.OpenContext();
        Assert.Equal(0, (await db.SavedReplies.SingleAsync(r => r.Id == sales)).UseCount);
        Assert.Equal(1, (await db.SavedReplies.SingleAsync(r => r.Id == annsOwn)).UseCount);
    }
}
