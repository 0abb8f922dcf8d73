using ConnectiveOne.Core.Threading;
using ConnectiveOne.Tests.TestSupport;

namespace ConnectiveOne.Tests.Threading;

[Trait("Database", "Unused")] // touches no database: runs in the SQLite pass only
public class ThreadResolverTests
{
    private const string Domain = "inbound.example.com";
    private const string Customer = "alice@customer.example";
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

    private readonly InMemoryThreadLookup _lookup = new();
    private readonly InMemoryThreadLookup.Ticket _ticket;
    private readonly string _ourReplyId;

    public ThreadResolverTests()
    {
        // Ticket #1: Alice wrote, we replied with our own Message-ID.
        _ticket = _lookup.CreateTicket();
        _lookup.AddMessage(_ticket.Id, "<first@customer.example>", Customer, "Printer broken", T0);
        _ourReplyId = MessageIdFormat.Generate(_ticket.Number, _ticket.ThreadToken, Domain);
        _lookup.AddMessage(_ticket.Id, _ourReplyId, "support@acme.example", "Re: Printer broken [#1]", T0.AddHours(1));
    }

    private static IncomingMessageFacts Facts(
        string[]? inReplyTo = null, string[]? references = null, string sender = Customer,
        string subject = "Something else", DateTimeOffset? date = null, string messageId = "new@customer.example") =>
        new(messageId, inReplyTo ?? [], references ?? [], sender, subject, date ?? T0.AddDays(1));

    private Task<ThreadDecision> ResolveAsync(IncomingMessageFacts facts, ThreadResolverOptions? options = null) =>
        new ThreadResolver(_lookup, options).ResolveAsync(facts, CancellationToken.None);

    private static (string Name, string[] InReplyTo, string[] References, string Sender, string Subject, ThreadRule Rule)[] Cases(string ourId, string forgedId) =>
    [
        ("our id in In-Reply-To", [ourId], [], "stranger@evil.example", "whatever", ThreadRule.OurMessageId),
        ("our id deep in References", [], [ourId, "x@y"], Customer, "whatever", ThreadRule.OurMessageId),
        ("stored customer id in References", [], ["<first@customer.example>"], "bob@other.example", "whatever", ThreadRule.StoredMessageId),
        ("second of two In-Reply-To ids", ["unknown@x", "first@customer.example"], [], Customer, "whatever", ThreadRule.StoredMessageId),
        ("forged token falls through to subject token", [forgedId], [], Customer, "Re: [#1] hi", ThreadRule.SubjectToken),
        ("subject token from participant", [], [], Customer, "[#1] more info", ThreadRule.SubjectToken),
        ("subject token from stranger is ignored", [], [], "mallory@evil.example", "[#1] Printer broken", ThreadRule.NewTicket),
        ("sender and subject", [], [], "ALICE@Customer.Example ", "AW: Printer broken", ThreadRule.SenderAndSubject),
        ("same subject, other sender", [], [], "bob@other.example", "Re: Printer broken", ThreadRule.NewTicket),
        ("unrelated", ["nobody@nowhere"], ["garbage"], Customer, "New question", ThreadRule.NewTicket),
    ];

    [Fact]
    public async Task Resolution_order_table()
    {
        var forged = MessageIdFormat.Generate(_ticket.Number, MessageIdFormat.NewThreadToken(), Domain);
        foreach (var (name, irt, refs, sender, subject, rule) in Cases(_ourReplyId, forged))
        {
            var decision = await ResolveAsync(Facts(irt, refs, sender, subject));
            Assert.True(rule == decision.Rule, $"{name}: expected {rule}, got {decision.Rule} ({decision.Detail})");
            Assert.Equal(rule == ThreadRule.NewTicket ? null : _ticket.Id, decision.TicketId);
        }
    }

    [Fact]
    public async Task Forged_token_is_reported_in_detail()
    {
        var forged = MessageIdFormat.Generate(_ticket.Number, MessageIdFormat.NewThreadToken(), Domain);
        var decision = await ResolveAsync(Facts([forged], subject: "hijack"));
        Assert.Equal(ThreadRule.NewTicket, decision.Rule);
        Assert.Contains("wrong token", decision.Detail);
    }

    [Fact]
    public async Task Our_id_for_a_missing_ticket_is_ignored()
    {
        var stray = MessageIdFormat.Generate(999, MessageIdFormat.NewThreadToken(), Domain);
        Assert.Equal(ThreadRule.NewTicket, (await ResolveAsync(Facts([stray]))).Rule);
    }

    [Fact]
    public async Task In_reply_to_wins_over_references()
    {
        var other = _lookup.CreateTicket();
        _lookup.AddMessage(other.Id, "other@customer.example", Customer, "Other", T0);
        var decision = await ResolveAsync(Facts(["other@customer.example"], ["first@customer.example"]));
        Assert.Equal(other.Id, decision.TicketId);
    }

    [Fact]
    public async Task Newest_reference_wins()
    {
        var other = _lookup.CreateTicket();
        _lookup.AddMessage(other.Id, "other@customer.example", Customer, "Other", T0);
        var decision = await ResolveAsync(Facts([], ["first@customer.example", "other@customer.example"]));
        Assert.Equal(other.Id, decision.TicketId);
    }

    [Fact]
    public async Task A_message_never_matches_its_own_id() =>
        Assert.Equal(ThreadRule.NewTicket, (await ResolveAsync(Facts(["first@customer.example"], messageId: "<first@customer.example>", subject: "x"))).Rule);

    [Theory]
    [InlineData(29, ThreadRule.SenderAndSubject)]
    [InlineData(31, ThreadRule.NewTicket)]
    public async Task Subject_window_is_thirty_days_from_last_activity(int days, ThreadRule expected) =>
        Assert.Equal(expected, (await ResolveAsync(Facts(subject: "Re: Printer broken", date: T0.AddHours(1).AddDays(days)))).Rule);

    [Fact]
    public async Task Subject_rule_can_be_disabled() =>
        Assert.Equal(ThreadRule.NewTicket, (await ResolveAsync(Facts(subject: "Re: Printer broken"), new ThreadResolverOptions { UseSenderAndSubject = false })).Rule);

    [Fact]
    public async Task Empty_subject_never_groups()
    {
        _lookup.AddMessage(_ticket.Id, "blank@customer.example", Customer, "", T0);
        Assert.Equal(ThreadRule.NewTicket, (await ResolveAsync(Facts(subject: "Re:"))).Rule);
    }

    [Fact]
    public async Task Null_sender_skips_sender_rules() =>
        Assert.Equal(ThreadRule.NewTicket, (await ResolveAsync(Facts(sender: "", subject: "[#1] Printer broken"))).Rule);

    [Fact]
    public async Task Decision_carries_the_normalized_subject()
    {
        var decision = await ResolveAsync(Facts(subject: "Re: [#1] More"));
        Assert.Equal("More", decision.Subject.Base);
        Assert.Equal(1, decision.Subject.TicketNumber);
    }

    [Theory]
    [InlineData("thread/chatwoot/multiple_in_reply_to.eml", "4e6e35f5a38b4_479f13bb90078131@small-app-01.mail")]
    [InlineData("thread/chatwoot/multiple_in_reply_to.eml", "4e6e35f5a38b4_479f13bb90078178@small-app-01.mail")]
    [InlineData("thread/chatwoot/references.eml", "test-in-reply-to")]
    [InlineData("thread/chatwoot/references.eml", "4e6e35f5a38b4_479f13bb90078178@small-app-01.mail")]
    public async Task Chatwoot_messages_find_the_ticket_of_any_referenced_id(string file, string storedId)
    {
        var lookup = new InMemoryThreadLookup();
        var ticket = lookup.CreateTicket();
        lookup.AddMessage(ticket.Id, storedId, "agent@chatwoot.example", "Hello", T0);
        var facts = IncomingMessageFacts.From(Corpus.LoadMessage(Corpus.PathOf(file)), T0.AddHours(1));

        var decision = await new ThreadResolver(lookup).ResolveAsync(facts);

        Assert.Equal(ThreadRule.StoredMessageId, decision.Rule);
        Assert.Equal(ticket.Id, decision.TicketId);
        Assert.Equal(storedId, decision.MatchedKey);
    }
}
