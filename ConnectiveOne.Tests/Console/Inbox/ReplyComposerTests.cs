using System.Security.Claims;
using Bunit;
using ConnectiveOne.Console.Features.Inbox;
using ConnectiveOne.Core;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MudBlazor;

namespace ConnectiveOne.Tests.Console.Inbox;

[Trait("Database", "Unused")] // touches no database: runs in the SQLite pass only
public sealed class ReplyComposerTests : MudTestContext
{
    private readonly TicketPresence _presence = new(TimeProvider.System);
    private readonly Guid _session = Guid.NewGuid();

    public ReplyComposerTests()
    {
        Services.AddSingleton(_presence);
        Services.AddSingleton(Options.Create(new ConnectiveOneOptions { Smtp = new SmtpListenerOptions { MaxMessageBytes = 10 * 1024 * 1024 } }));
        Services.AddSingleton<AuthenticationStateProvider>(new FixedUser());
    }

    private static TicketDetails Ticket(params long[] inboundIds) => Ticket("carla@customer.test", inboundIds);

    private static TicketDetails Ticket(string customer, params long[] inboundIds) => new(5, 5, "Printer", "Open", null, customer, "Carla", null,
        inboundIds.Length, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, Guid.NewGuid(),
        inboundIds.Select(id => new TicketMessageView(id, "Inbound", "carla@customer.test", "Carla", "support@acme.test", null, "Printer",
            null, null, null, DateTimeOffset.UtcNow, $"message {id}", null, false, [], null, null, null, 10, [])).ToList());

    [Fact]
    public void The_size_limit_is_stated_before_upload_and_a_note_changes_the_action()
    {
        Render<MudPopoverProvider>();
        var composer = Render<ReplyComposer>(p => p.Add(c => c.Ticket, Ticket(1)).Add(c => c.Session, _session));
        Assert.Contains("up to 10 MB in all", composer.Markup);
        Assert.Contains("Send reply", composer.Find("[data-testid='send-reply']").TextContent);

        composer.Find(".c1-composer-head input[type='checkbox']").Change(true);
        Assert.Contains("Add note", composer.Find("[data-testid='send-reply']").TextContent);
        Assert.Contains("only your team sees it", composer.Markup);
        Assert.Empty(composer.FindAll("[data-testid='reply-files']"));
    }

    [Fact]
    public void Typing_shows_presence_and_an_empty_reply_is_refused_in_words()
    {
        _presence.View(_session, 5, "me", "me@example.test");
        var composer = Render<ReplyComposer>(p => p.Add(c => c.Ticket, Ticket(1)).Add(c => c.Session, _session));
        composer.Find("[data-testid='send-reply']").Click();
        Assert.Contains("Write something or attach a file first.", composer.Find("[data-testid='reply-error']").TextContent);

        composer.Find("#c1-reply-text").Input("Hello Carla");
        Assert.True(_presence.ViewersOf(5).Single().Typing);
        composer.Find("#c1-reply-text").Input("");
        Assert.False(_presence.ViewersOf(5).Single().Typing);
    }

    [Fact]
    public void A_customer_message_that_arrives_while_typing_asks_before_sending()
    {
        var dialogs = Render<MudDialogProvider>();
        var composer = Render<ReplyComposer>(p => p.Add(c => c.Ticket, Ticket(1)).Add(c => c.Session, _session));
        composer.Find("#c1-reply-text").Input("Have you tried turning it off?");
        composer.Render(p => p.Add(c => c.Ticket, Ticket(1, 2)));

        composer.Find("[data-testid='send-reply']").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Carla wrote again while you were typing", dialogs.Markup));
        Assert.Contains("Send anyway", dialogs.Markup);
        Assert.Contains("Review first", dialogs.Markup);
    }

    [Theory]
    [InlineData("", "no usable From, Reply-To, Sender or envelope sender")]
    [InlineData("\"qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq", "is not an email address")]
    public void A_ticket_without_a_usable_customer_address_says_so_and_offers_notes_only(string customer, string words)
    {
        var composer = Render<ReplyComposer>(p => p.Add(c => c.Ticket, Ticket(customer, 1)).Add(c => c.Session, _session));

        Assert.Contains("No reply address", composer.Find(".c1-composer-head").TextContent);
        var notice = composer.Find("[data-testid='no-reply-address']").TextContent;
        Assert.Contains("This ticket has no reply address", notice);
        Assert.Contains(words, notice);
        Assert.Contains("internal notes still work", notice);
        Assert.True(composer.Find("[data-testid='send-reply']").HasAttribute("disabled"));

        composer.Find(".c1-composer-head input[type='checkbox']").Change(true);
        Assert.Empty(composer.FindAll("[data-testid='no-reply-address']"));
        Assert.False(composer.Find("[data-testid='send-reply']").HasAttribute("disabled"));
    }

    [Fact]
    public void A_ticket_with_a_customer_address_shows_no_notice()
    {
        var composer = Render<ReplyComposer>(p => p.Add(c => c.Ticket, Ticket(1)).Add(c => c.Session, _session));
        Assert.Contains("Reply to Carla", composer.Markup);
        Assert.Empty(composer.FindAll("[data-testid='no-reply-address']"));
    }

    private sealed class FixedUser : AuthenticationStateProvider
    {
        public override Task<AuthenticationState> GetAuthenticationStateAsync() =>
            Task.FromResult(new AuthenticationState(new ClaimsPrincipal(new ClaimsIdentity(
                [new Claim(ClaimTypes.NameIdentifier, "me"), new Claim(ClaimTypes.Name, "me@example.test")], "test"))));
    }
}
