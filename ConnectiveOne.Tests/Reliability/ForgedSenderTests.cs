using System.Net.Http.Json;
using System.Text.Json;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Threading;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;

namespace ConnectiveOne.Tests.Reliability;

/// <summary>
/// Mail that pretends to come from our side over real SMTP: an operator's From address, our corporate address,
/// our Message-ID format with a guessed token, a <c>[#N]</c> of someone else's ticket. None of it is attributed to an
/// operator (Inbound, no author) and none of it joins the other customer's ticket.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class ForgedSenderTests : IAsyncLifetime
{
    private const string Operator = "olivia@acme.test";
    private readonly InboundApp _inbound = new(new Dictionary<string, string?> { ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain });
    private TestApp App => _inbound.App;
    private string _technical = "";
    private long _carlasTicket;
    private string _ourReplyId = "";

    public async Task InitializeAsync()
    {
        var address = await MailSeed.AddressAsync(App, "support@acme.test", DomainStatus.Verified);
        _technical = address.TechnicalAddress;
        var operatorToken = await App.CreateUserWithTokenAsync(Operator, "Operator", "olivia-password-1");

        await _inbound.SendAsync(Mail("carla@customer.test", "Invoice 4711 is wrong"), _technical);
        await using var scope = App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        _carlasTicket = (await db.Tickets.SingleAsync()).Id;

        var api = App.CreateApiClient(operatorToken);
        (await api.PostAsJsonAsync($"/api/v1/tickets/{_carlasTicket}/replies", new { text = "We are on it." })).EnsureSuccessStatusCode();
        _ourReplyId = await db.Messages.Where(m => m.Direction == MessageDirection.Outbound).Select(m => m.MessageIdHeader!).SingleAsync();
        Assert.True(MessageIdFormat.TryParse(_ourReplyId, out _));
    }

    public async Task DisposeAsync() => await _inbound.DisposeAsync();

    private static MimeMessage Mail(string from, string subject, string? inReplyTo = null)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(from));
        message.To.Add(MailboxAddress.Parse("support@acme.test"));
        message.Subject = subject;
        message.MessageId = $"{Guid.NewGuid():N}@forged.test";
        if (inReplyTo is not null)
        {
            message.InReplyTo = inReplyTo;
            message.References.Add(inReplyTo);
        }
        message.Body = new TextPart("plain") { Text = "Please send the refund to my new account." };
        return message;
    }

    public static TheoryData<string, string, string> Forgeries() => new()
    {
        // name, From, subject ("{N}" is Carla's ticket number); In-Reply-To is set where the name says so.
        { "operator's address as From", Operator, "Re: Invoice 4711 is wrong" },
        { "operator's address with [#N]", Operator, "Re: Invoice 4711 is wrong [#{N}]" },
        { "our corporate address with [#N]", "support@acme.test", "Re: Invoice 4711 is wrong [#{N}]" },
        { "a stranger with [#N]", "mallory@attacker.test", "Re: Invoice 4711 is wrong [#{N}]" },
        { "our Message-ID format with a guessed token", "mallory@attacker.test", "Re: Invoice 4711 is wrong" },
        { "our Message-ID format from the operator's address", Operator, "Re: Invoice 4711 is wrong" },
    };

    [Theory]
    [MemberData(nameof(Forgeries))]
    public async Task A_forged_reply_marker_neither_speaks_for_an_operator_nor_joins_another_customers_ticket(string name, string from, string subject)
    {
        string? inReplyTo = null;
        if (name.Contains("guessed token") || name.Contains("Message-ID format"))
        {
            Assert.True(MessageIdFormat.TryParse(_ourReplyId, out var ours));
            // Right ticket number and domain, a token the sender does not know.
            inReplyTo = MessageIdFormat.Generate(ours.TicketNumber, MessageIdFormat.NewThreadToken(), MailSeed.InboundDomain);
        }
        var forged = Mail(from, subject.Replace("{N}", _carlasTicket.ToString()), inReplyTo);
        await _inbound.SendAsync(forged, _technical);

        await using var scope = App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var stored = await db.Messages.AsNoTracking().SingleAsync(m => m.MessageIdHeader == forged.MessageId);
        Assert.Equal(MessageDirection.Inbound, stored.Direction);
        Assert.Null(stored.AuthorUserId);
        Assert.True(stored.TicketId != _carlasTicket, $"{name}: joined Carla's ticket #{_carlasTicket}");
        var ticket = await db.Tickets.AsNoTracking().SingleAsync(t => t.Id == stored.TicketId);
        // Our own corporate address is never the customer (a reply there would come straight back in): the envelope sender is.
        Assert.Equal(from == "support@acme.test" ? "sender@example.org" : from.ToLowerInvariant(), ticket.CustomerEmail);
    }

    [Fact]
    public async Task The_real_customer_replying_to_our_message_still_joins_her_ticket()
    {
        // The control: the same paths work for the person they are meant for, so the refusals above are not accidents.
        var reply = Mail("carla@customer.test", "Re: Invoice 4711 is wrong", _ourReplyId);
        await _inbound.SendAsync(reply, _technical);
        var byToken = Mail("carla@customer.test", $"Another thing [#{_carlasTicket}]");
        await _inbound.SendAsync(byToken, _technical);

        await using var scope = App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        foreach (var id in new[] { reply.MessageId, byToken.MessageId })
            Assert.Equal(_carlasTicket, (await db.Messages.AsNoTracking().SingleAsync(m => m.MessageIdHeader == id)).TicketId);
    }
}
