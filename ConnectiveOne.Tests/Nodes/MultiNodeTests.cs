using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Outbound;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;

namespace ConnectiveOne.Tests.Nodes;

/// <summary>
/// Two nodes on one database, one data folder and one real Redis: outbox work is shared without sending anything
/// twice (also when a node is killed), Mailgun tokens and presence are seen by both.
/// </summary>
[Collection(NodesCollection.Name)]
public sealed class MultiNodeTests : IAsyncLifetime
{
    private SharedNodes _nodes = null!;
    private CaptureRelay _relay = null!;

    public async Task InitializeAsync()
    {
        _nodes = await SharedNodes.StartAsync();
        _relay = await CaptureRelay.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _relay.DisposeAsync();
        await _nodes.DisposeAsync();
    }

    [Fact]
    public async Task A_thousand_replies_queued_on_two_nodes_are_each_sent_exactly_once()
    {
        await using var a = _nodes.App("node-a", _relay.Settings);
        await using var b = _nodes.App("node-b", _relay.Settings);
        var address = await MailSeed.AddressAsync(a, "support@acme.test", DomainStatus.Verified);

        // Queued in the database of both nodes at once while both outbox workers run (the reply API's composing is
        // covered elsewhere; written as rows here so 1,000 of them stay quick on two busy cores).
        await Task.WhenAll(new[] { a, b }.Select((node, n) => Task.Run(async () =>
        {
            for (var batch = 0; batch < 10; batch++)
            {
                await using var scope = node.Services.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
                db.Outbox.AddRange(Enumerable.Range(0, 50).Select(i => QueuedReply(address, $"node {n}, reply {batch * 50 + i}")));
                await db.SaveChangesAsync();
                scope.ServiceProvider.GetRequiredService<OutboxSignal>().Wake();
            }
        })));

        await _relay.WaitForAsync(1000, timeoutSeconds: 180);
        var outbox = await MailSeed.WaitForAsync(a, async db => await db.Outbox.AsNoTracking().ToListAsync(),
            rows => rows.All(m => m.State != DeliveryState.Queued));
        Assert.Equal(1000, outbox.Count);
        Assert.All(outbox, m => Assert.Equal((DeliveryState.Sent, 1, null), (m.State, m.Attempts, m.LeaseOwner)));

        // Every row was sent, each exactly once.
        var sent = SentTimesByMessageId();
        Assert.Equal(1000, _relay.Received.Count);
        Assert.Equal(outbox.Select(m => m.MessageIdHeader).Order(), sent.Keys.Order());
    }

    private static OutboundMail QueuedReply(CorporateAddress from, string text)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(from.Email));
        message.To.Add(MailboxAddress.Parse("carol@customer.example"));
        message.Subject = "Re: Question";
        message.MessageId = $"{Guid.NewGuid():N}@acme.test";
        message.Body = new TextPart("plain") { Text = text };
        using var bytes = new MemoryStream();
        message.WriteTo(bytes);
        var now = DateTimeOffset.UtcNow;
        return new OutboundMail
        {
            Kind = OutboundKind.Reply,
            AddressId = from.Id,
            FromAddress = from.Email,
            ToAddress = "carol@customer.example",
            Subject = message.Subject,
            MessageIdHeader = message.MessageId,
            Mime = bytes.ToArray(),
            CreatedAt = now,
            NextAttemptAt = now,
        };
    }

    [Fact]
    public async Task Killing_a_node_mid_run_loses_no_reply_and_the_other_node_finishes_its_work()
    {
        const int count = 100;
        // Queued by a node without a relay (it sends nothing), which stays up to read the database.
        await using var seed = _nodes.App("seed");
        var tickets = await TicketsAsync(seed, 10);
        var api = seed.CreateApiClient();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, ct) =>
            (await api.PostAsJsonAsync($"/api/v1/tickets/{tickets[i % tickets.Count]}/replies", new { text = $"Reply {i}" }, ct))
                .EnsureSuccessStatusCode());

        var settings = new Dictionary<string, string?>(_relay.Settings)
        {
            // Long enough that node A's claims are still there when the test looks, right after the kill.
            ["ConnectiveOne:WorkLease"] = "00:00:10",
            ["ConnectiveOne:Outbound:Timeout"] = "00:00:03",
            ["ConnectiveOne:Outbound:PollInterval"] = "00:00:01",
            // A relay answer slowed by a busy machine is retried at once, not in a minute.
            ["ConnectiveOne:Outbound:RetryDelays"] = "00:00:01",
        };
        _relay.AnswerDelay = TimeSpan.FromMilliseconds(50);
        await using var a = _nodes.Process("node-a", settings);
        await using var b = _nodes.Process("node-b", settings);
        var killed = new TaskCompletionSource();
        var bothUp = false;
        var answeredSinceBothUp = 0;
        _relay.Answering += mail =>
        {
            // Killed while both nodes are sending, a few mails after both are up.
            if (Volatile.Read(ref bothUp) && Interlocked.Increment(ref answeredSinceBothUp) == 5)
                _ = Task.Run(async () =>
                {
                    await a.KillAsync();
                    killed.TrySetResult();
                });
        };
        await Task.WhenAll(a.StartAsync(), b.StartAsync());
        Volatile.Write(ref bothUp, true);
        await killed.Task.WaitAsync(TimeSpan.FromSeconds(120));

        // Node A died holding claimed mail; node B takes it over once the lease runs out.
        var heldByA = await MailSeed.WaitForAsync(seed, async db => (int?)await db.Outbox
            .CountAsync(m => m.State == DeliveryState.Queued && m.LeaseOwner!.StartsWith("node-a/")), _ => true);
        Assert.True(heldByA > 0, "Node A held no claimed mail when it was killed, so the test proves nothing.");
        var outbox = await MailSeed.WaitForAsync(seed, async db => await db.Outbox.AsNoTracking().ToListAsync(),
            rows => rows.All(m => m.State == DeliveryState.Sent));
        Assert.Equal(count, outbox.Count);

        var sent = SentTimesByMessageId();
        Assert.Equal(outbox.Select(m => m.MessageIdHeader).Order(), sent.Keys.Order());
        // At least once: only the mail the relay accepted just as node A died may have gone out a second time.
        Assert.True(sent.Values.Count(n => n > 1) <= 1 && sent.Values.All(n => n <= 2),
            $"Sent more than once: {string.Join(", ", sent.Where(s => s.Value > 1).Select(s => $"{s.Key} x{s.Value}"))}");
    }

    [Fact]
    public async Task A_mailgun_token_used_on_one_node_is_refused_on_the_other()
    {
        await using var a = _nodes.Inbound("node-a");
        await using var b = _nodes.Inbound("node-b");
        var address = await InboundAddresses.AddAsync(a.App.Services, "hooks@acme.test");
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("jo@customer.test"));
        message.To.Add(MailboxAddress.Parse("hooks@acme.test"));
        message.Subject = "Via Mailgun";
        message.MessageId = $"{Guid.NewGuid():N}@customer.test";
        message.Body = new TextPart("plain") { Text = "Hello" };
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString();

        var first = await a.App.CreateApiClient(null).PostAsync("/api/v1/inbound/mailgun",
            InboundApp.MailgunForm(address.TechnicalAddress, message, now, "shared-token"));
        var replay = await b.App.CreateApiClient(null).PostAsync("/api/v1/inbound/mailgun",
            InboundApp.MailgunForm(address.TechnicalAddress, message, now, "shared-token"));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, replay.StatusCode);
        Assert.Contains("replay", (await replay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("title").GetString());
        Assert.Equal(HttpStatusCode.OK, (await b.App.CreateApiClient(null).PostAsync("/api/v1/inbound/mailgun",
            InboundApp.MailgunForm(address.TechnicalAddress, message, now, "another-token"))).StatusCode);
    }

    [Fact]
    public async Task Operators_on_different_nodes_see_each_other_view_type_and_leave()
    {
        await using var a = _nodes.App("node-a");
        await using var b = _nodes.App("node-b");
        var onA = a.Services.GetRequiredService<TicketPresence>();
        var onB = b.Services.GetRequiredService<TicketPresence>();
        await WaitUntilBothListenAsync(onA, onB);

        var ann = Guid.NewGuid();
        onA.View(ann, 42, "ann-id", "ann@example.test");
        await SharedNodes.WaitForAsync(() => onB.ViewersOf(42).SequenceEqual([new Viewer("ann-id", "ann@example.test", false)]));
        onB.View(Guid.NewGuid(), 42, "bob-id", "bob@example.test");
        onA.Typed(ann);
        await SharedNodes.WaitForAsync(() => onB.ViewersOf(42).SequenceEqual(
            [new Viewer("ann-id", "ann@example.test", true), new Viewer("bob-id", "bob@example.test", false)]));
        await SharedNodes.WaitForAsync(() => onA.ViewersOf(42).Count == 2);

        onA.Leave(ann);
        await SharedNodes.WaitForAsync(() => onB.ViewersOf(42).SequenceEqual([new Viewer("bob-id", "bob@example.test", false)]));
    }

    [Fact]
    public async Task When_redis_goes_away_each_node_keeps_working_alone_and_shares_again_once_it_is_back()
    {
        await using var redis = await RedisServer.StartOwnAsync();
        var own = new Dictionary<string, string?> { ["ConnectiveOne:Redis"] = redis.Configuration };
        await using var a = _nodes.App("node-a", own);
        await using var b = _nodes.App("node-b", own);
        var presenceA = a.Services.GetRequiredService<TicketPresence>();
        var presenceB = b.Services.GetRequiredService<TicketPresence>();
        await WaitUntilBothListenAsync(presenceA, presenceB);

        await redis.StopAsync();
        // Node A still takes work and tells its own pages at once.
        var seenOnA = new List<ChangeEvent>();
        using (a.Services.GetRequiredService<ChangeNotifier>().Subscribe(seenOnA.Add))
            a.Services.GetRequiredService<ChangeNotifier>().Publish(new ChangeEvent(ChangeKind.TicketUpdated, "7"));
        Assert.Equal(["7"], seenOnA.Select(e => e.Id));
        Assert.Equal(HttpStatusCode.OK, (await a.CreateApiClient().GetAsync("/api/v1/tickets")).StatusCode);
        var ann = Guid.NewGuid();
        presenceA.View(ann, 9, "ann-id", "ann@example.test");
        Assert.Single(presenceA.ViewersOf(9));

        // Redis is back: the nodes reconnect by themselves, and the next repeat of presence reaches node B.
        await redis.RestartAsync();
        await SharedNodes.WaitForAsync(() => presenceB.ViewersOf(9).Count == 1, TimeSpan.FromSeconds(60));
        var seenOnB = new List<ChangeEvent>();
        using var subscription = b.Services.GetRequiredService<ChangeNotifier>().Subscribe(seenOnB.Add);
        a.Services.GetRequiredService<ChangeNotifier>().Publish(new ChangeEvent(ChangeKind.TicketUpdated, "8"));
        await SharedNodes.WaitForAsync(() => seenOnB.Any(e => e is { Id: "8", FromOtherNode: true }));
    }

    /// <summary>Subscriptions are made in the background at start: wait until a probe on one node reaches the other.</summary>
    private static async Task WaitUntilBothListenAsync(TicketPresence a, TicketPresence b)
    {
        var probe = Guid.NewGuid();
        await SharedNodes.WaitForAsync(() =>
        {
            a.View(probe, -1, "probe", "probe");
            b.View(probe, -2, "probe", "probe");
            return b.ViewersOf(-1).Count == 1 && a.ViewersOf(-2).Count == 1;
        });
        a.Leave(probe);
        b.Leave(probe);
    }


    private Dictionary<string, int> SentTimesByMessageId() =>
        _relay.Received.GroupBy(m => m.Message.MessageId ?? "").ToDictionary(g => g.Key, g => g.Count());

    /// <summary>Tickets of a verified address, so replies are composed and queued.</summary>
    private static async Task<List<long>> TicketsAsync(TestApp app, int count)
    {
        var address = await MailSeed.AddressAsync(app, "support@acme.test", DomainStatus.Verified);
        var ids = new List<long>();
        for (var i = 0; i < count; i++)
            ids.Add((await MailSeed.TicketAsync(app, address, $"Question {i}")).Ticket.Id);
        return ids;
    }
}

[CollectionDefinition(Name)]
[RunsLong(65)]
public sealed class NodesCollection
{
    /// <summary>Multi-node tests run one after another: each starts several apps and its own Redis.</summary>
    public const string Name = "nodes";
}
