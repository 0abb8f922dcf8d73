using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Threading;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using MimeKit;

namespace ConnectiveOne.Tests.Tickets;

/// <summary>
/// Issue #16, merge and split threading tables: after a merge (or a split), each of 20 follow-up mails, built from
/// corpus messages with their headers set for one rule, goes through the real SMTP listener and must land in the
/// ticket the table names (Message-ID in In-Reply-To/References, our own Message-ID, [#old]/[#new] subject tokens,
/// sender + subject), and strangers must still get tickets of their own.
/// </summary>
[RunsLong(40)]
public sealed class MergeSplitThreadingTests : IAsyncLifetime
{
    private const string Carol = "carol@customer.example";
    private const string Bob = "bob@customer.example";
    private const string Eve = "eve@elsewhere.example";
    private const string Support = "support@acme.test";

    private CaptureRelay _relay = null!;
    private InboundApp _inbound = null!;
    private string _technical = "";
    private HttpClient _api = null!;
    private int _corpusIndex;
    private TestApp App => _inbound.App;

    // Real bodies and MIME structures (talon's replies from many clients, then the MIME corpus); only the headers that
    // threading reads are set by the table.
    private static readonly IReadOnlyList<string> Bodies = Corpus.Files("replies/talon", "*.eml")
        .Concat(Corpus.Files("thread/chatwoot", "*.eml")).Concat(Corpus.Files("mime", "*.eml").Take(20)).ToList();

    /// <summary>One follow-up: who sends it, its subject, what it refers to, and where it must land (null: a new ticket).</summary>
    private sealed record FollowUp(string Rule, string From, string Subject, string? InReplyTo, string[] References, string? Expected);

    public async Task InitializeAsync()
    {
        _relay = await CaptureRelay.StartAsync();
        _inbound = new InboundApp(new Dictionary<string, string?>(_relay.Settings)
        {
            ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain,
            ["ConnectiveOne:Outbound:PollInterval"] = "00:00:01",
        });
        _technical = (await MailSeed.AddressAsync(App, Support, DomainStatus.Verified)).TechnicalAddress;
        _api = App.CreateApiClient();
    }

    public async Task DisposeAsync()
    {
        await _inbound.DisposeAsync();
        await _relay.DisposeAsync();
    }

    [Fact]
    public async Task After_a_merge_mail_naming_either_ticket_by_any_rule_lands_in_the_target()
    {
        // Ticket A: Carol's invoice, answered. Ticket B: her login problem with Bob copied, answered.
        var a1 = await SendAsync(Carol, "Invoice 1042 overdue", null, [], cc: null);
        var a = await TicketOfAsync(a1);
        var ra = await ReplyAsync(a, 1);
        var b1 = await SendAsync(Carol, "Login broken", null, [], cc: Bob);
        var b = await TicketOfAsync(b1);
        var rb = await ReplyAsync(b, 2);
        Assert.NotEqual(a, b);

        var merged = await _api.PostAsJsonAsync($"/api/v1/tickets/{b}/merge", new { intoTicketId = a });
        Assert.Equal(HttpStatusCode.OK, merged.StatusCode);
        var forged = MessageIdFormat.Generate(b, new string('a', MessageIdFormat.TokenLength), MailSeed.InboundDomain);
        var (A, B) = (a.ToString(), b.ToString());

        await RunTableAsync(
        [
            // Sender + subject first: each later mail makes its ticket the most recently active one.
            new("sender+subject (old subject)", Carol, "Re: Login broken", null, [], A),
            new("sender+subject (target subject)", Carol, "Re: Invoice 1042 overdue", null, [], A),
            new("sender+subject (forwarded)", Carol, "Fwd: Login broken", null, [], A),
            new("sender+subject (case)", Carol, "RE: LOGIN BROKEN", null, [], A),
            new("stored id: In-Reply-To old", Carol, "A note", b1, [], A),
            new("stored id: References old", Carol, "A note", null, [b1], A),
            new("stored id: In-Reply-To target", Carol, "A note", a1, [], A),
            new("stored id: Cc of old writes", Bob, "A note", b1, [], A),
            new("stored id: chain old+target", Carol, "A note", "unknown-1@customer.example", [a1, b1], A),
            new("our id: reply in old", Carol, "A note", rb, [], A),
            new("our id: reply in target", Carol, "A note", ra, [], A),
            new("our id: References old", Carol, "A note", null, [rb], A),
            new("[#old]", Carol, $"Question about [#{b}]", null, [], A),
            new("[#new]", Carol, $"Question about [#{a}]", null, [], A),
            new("[#old] from Cc of old", Bob, $"Another question [#{b}]", null, [], A),
            new("[#new] from Cc of old", Bob, $"More [#{a}]", null, [], A),
            new("stranger with [#old]", Eve, $"Hijack [#{b}]", null, [], null),
            new("stranger with old subject", Eve, "Re: Login broken", null, [], null),
            new("customer, new matter", Carol, "Completely different", null, [], null),
            new("forged id of old", Carol, "Something else", forged, [], null),
        ]);

        // Nothing went into the merged ticket; its number still opens the target.
        await using var db = App.Database.OpenContext();
        Assert.Equal(0, await db.Messages.CountAsync(m => m.TicketId == b));
        var opened = await _api.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{b}");
        Assert.Equal(a, opened.GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task After_a_split_replies_to_the_split_off_messages_land_in_the_new_ticket_and_the_rest_in_the_original()
    {
        // Two matters joined by the sender+subject rule: Carol's second "Order status" is about another order.
        var s1 = await SendAsync(Carol, "Order status", null, [], cc: Bob);
        var t = await TicketOfAsync(s1);
        var r1 = await ReplyAsync(t, 1);
        var s2 = await SendAsync(Carol, "Order status", null, [], cc: null);
        Assert.Equal(t, await TicketOfAsync(s2));
        var r2 = await ReplyAsync(t, 2);
        var s3 = await SendAsync(Carol, "Re: Order status", r2, [r2], cc: null);
        Assert.Equal(t, await TicketOfAsync(s3));

        var split = await _api.PostAsync($"/api/v1/messages/{await MessageRowAsync(s2)}/split", null);
        Assert.Equal(HttpStatusCode.Created, split.StatusCode);
        var n = (await split.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        var (T, N) = (t.ToString(), n.ToString());

        await RunTableAsync(
        [
            // The split-off half is the most recently active "Order status" of Carol's.
            new("sender+subject", Carol, "Re: Order status", null, [], N),
            new("sender+subject (no prefix)", Carol, "Order status", null, [], N),
            new("stored id: split message", Carol, "A note", s2, [], N),
            new("stored id: after the split", Carol, "A note", s3, [], N),
            new("stored id: chain ending in split", Carol, "A note", null, [s1, s2], N),
            new("stored id: before the split", Carol, "A note", s1, [], T),
            new("stored id: References before", Carol, "A note", null, [s1], T),
            new("our id: reply that moved", Carol, "A note", r2, [], N),
            new("our id: reply that stayed", Carol, "A note", r1, [], T),
            new("our id: References both", Carol, "A note", null, [r1, r2], N),
            new("our id: References moved", Carol, "A note", null, [r2], N),
            new("[#new]", Carol, $"About [#{n}]", null, [], N),
            new("[#old]", Carol, $"About [#{t}]", null, [], T),
            new("[#new] from Cc", Bob, $"Me too [#{n}]", null, [], N),
            new("[#old] from Cc", Bob, $"Me too [#{t}]", null, [], T),
            new("someone new answering the split", "dan@customer.example", "A note", s3, [], N),
            new("stranger with [#new]", Eve, $"Hijack [#{n}]", null, [], null),
            new("stranger with the subject", Eve, "Re: Order status", null, [], null),
            new("customer, new matter", Carol, "Unrelated", null, [], null),
            new("unknown reference", Carol, "Unrelated too", "nobody@nowhere.example", [], null),
        ]);
    }

    // Sends each follow-up and checks where it landed; all rows are checked before failing, so one run shows every miss.
    private async Task RunTableAsync(IReadOnlyList<FollowUp> table)
    {
        Assert.Equal(20, table.Count);
        var known = await TicketIdsAsync();
        var misses = new List<string>();
        foreach (var row in table)
        {
            var id = await SendAsync(row.From, row.Subject, row.InReplyTo, row.References, cc: null);
            var landed = await TicketOfAsync(id);
            var ok = row.Expected is { } expected ? landed.ToString() == expected : !known.Contains(landed);
            if (!ok)
                misses.Add($"{row.Rule}: landed in #{landed}, expected {(row.Expected is { } e ? "#" + e : "a new ticket")}");
            known.Add(landed);
        }
        Assert.True(misses.Count == 0, string.Join("\n", misses));
    }

    private async Task<string> SendAsync(string from, string subject, string? inReplyTo, string[] references, string? cc)
    {
        var message = Corpus.LoadMessage(Bodies[_corpusIndex++ % Bodies.Count]);
        foreach (var header in new[] { HeaderId.From, HeaderId.Sender, HeaderId.ReplyTo, HeaderId.To, HeaderId.Cc, HeaderId.InReplyTo, HeaderId.References, HeaderId.Subject })
            message.Headers.RemoveAll(header);
        message.From.Add(MailboxAddress.Parse(from));
        message.To.Add(MailboxAddress.Parse(Support));
        if (cc is not null)
            message.Cc.Add(MailboxAddress.Parse(cc));
        message.Subject = subject;
        message.MessageId = $"{Guid.NewGuid():N}@customer.example";
        if (inReplyTo is not null)
            message.InReplyTo = inReplyTo;
        foreach (var reference in references)
            message.References.Add(reference);
        await _inbound.SendAsync(message, _technical);
        return message.MessageId;
    }

    // An operator's reply through the API, sent to the capture relay; returns our Message-ID it carries.
    private async Task<string> ReplyAsync(long ticketId, int sentSoFar)
    {
        var response = await _api.PostAsJsonAsync($"/api/v1/tickets/{ticketId}/replies", new { text = "We are looking into it." });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var sent = (await _relay.WaitForAsync(sentSoFar))[sentSoFar - 1].Message;
        Assert.True(MessageIdFormat.TryParse(sent.MessageId, out var ours) && ours.TicketNumber == ticketId, sent.MessageId);
        return sent.MessageId!;
    }

    private async Task<long> TicketOfAsync(string messageId)
    {
        await using var db = App.Database.OpenContext();
        return await db.Messages.Where(m => m.MessageIdHeader == messageId).Select(m => m.TicketId).SingleAsync();
    }

    private async Task<long> MessageRowAsync(string messageId)
    {
        await using var db = App.Database.OpenContext();
        return await db.Messages.Where(m => m.MessageIdHeader == messageId).Select(m => m.Id).SingleAsync();
    }

    private async Task<HashSet<long>> TicketIdsAsync()
    {
        await using var db = App.Database.OpenContext();
        return (await db.Tickets.Select(t => t.Id).ToListAsync()).ToHashSet();
    }
}
