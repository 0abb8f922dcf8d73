using System.Diagnostics;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Inbound.Intake;
using ConnectiveOne.Core.Outbound;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace ConnectiveOne.Tests.Reliability;

/// <summary>
/// A reply to every ticket that hostile mail makes: the shared corpus and the reliability suite's mutations of it go
/// through intake, an operator replies to each resulting ticket, and the real outbox worker delivers to a real capture
/// relay. Every reply is queued or refused in words, and every queued one ends Sent or Failed with a reason: none is left
/// Queued once the relay has answered. Figures go to docs/RELIABILITY.md, "One mail cannot stop the outbox".
/// </summary>
/// <remarks>
/// The whole path costs about 25 ms a message on the shared test machine (all 11,183 messages: over 7 minutes), so the
/// suite takes every corpus message and every 23rd of the 10,000 mutations (435, every damage kind: 23 and the 15 kinds
/// have no common factor); <c>C1_SOAK=1</c> takes all 10,000.
/// </remarks>
[Trait("Category", "Reliability")]
[RunsLong(60)]
public sealed class HostileMailReplyTests(ITestOutputHelper output)
{
    /// <summary>The mutation seed of <see cref="MalformedMimeTests"/>, so these are the same 10,000 messages.</summary>
    private const int Seed = 20261127;

    private const int Mutations = 10_000;

    /// <summary>Every n-th mutation goes through (1 with <c>C1_SOAK=1</c>).</summary>
    private static readonly int Every = Environment.GetEnvironmentVariable("C1_SOAK") == "1" ? 1 : 23;

    [Fact]
    public async Task A_reply_to_every_ticket_from_the_corpus_and_every_23rd_of_its_10000_mutations_ends_Sent_or_Failed_with_a_reason()
    {
        await using var relay = await CaptureRelay.StartAsync();
        await using var app = new TestApp(settings: new Dictionary<string, string?>(relay.Settings)
        {
            ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain,
            ["ConnectiveOne:Outbound:PollInterval"] = "00:00:01",
            ["ConnectiveOne:Outbound:Timeout"] = "00:00:10",
            ["ConnectiveOne:Smtp:MaxMessageBytes"] = HostileIntake.MaxMessageBytes.ToString(),
            ["ConnectiveOne:Inbound:ParseTimeoutSeconds"] = "1",
            // Tens of thousands of "stored" and "sent" lines would cost more than the work they describe.
            ["Serilog:MinimumLevel:Default"] = "Warning",
        });
        var address = await MailSeed.AddressAsync(app, "hostile@acme.test", DomainStatus.Pending);
        var recipient = new InboundAddress(address.Id, address.Email, address.TechnicalAddress);
        var corpus = CorpusMessages.Load();
        var mutations = new MimeMutator(corpus, Seed).Damaged(Mutations).Where(m => m.Index % Every == 0).ToList();
        var messages = corpus.Select(m => m.Bytes).Concat(mutations.Select(m => m.Bytes)).ToList();
        var watch = Stopwatch.StartNew();

        var intake = app.Services.GetRequiredService<InboundIntake>();
        var refusedAtIntake = 0;
        await Parallel.ForEachAsync(messages, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (raw, ct) =>
        {
            try
            {
                await intake.AcceptAsync(raw, [recipient], null, "test", ct);
            }
            catch (MessageTooLargeException)
            {
                Interlocked.Increment(ref refusedAtIntake);
            }
        });
        var intakeTime = watch.Elapsed;

        List<long> tickets;
        await using (var db = app.Database.OpenContext())
            tickets = await db.Tickets.Select(t => t.Id).ToListAsync();
        var refusals = new Dictionary<string, int>();
        var queued = 0;
        await Parallel.ForEachAsync(tickets, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (ticketId, ct) =>
        {
            await using var scope = app.Services.CreateAsyncScope();
            var result = await scope.ServiceProvider.GetRequiredService<ReplyService>().QueueReplyAsync(ticketId, "We are on it.", [], null, ct);
            lock (refusals)
            {
                if (result.MessageId is not null)
                    queued++;
                else
                    refusals[Kind(result.Error)] = refusals.GetValueOrDefault(Kind(result.Error)) + 1;
            }
        });
        var replyTime = watch.Elapsed - intakeTime;

        // Until the outbox is empty or stops moving for 30 s (the relay answers at once, so it never should).
        List<(DeliveryState State, string? Detail)> rows;
        var lastQueued = -1;
        var lastProgress = Stopwatch.StartNew();
        while (true)
        {
            await using (var db = app.Database.OpenContext())
                rows = (await db.Outbox.AsNoTracking().Select(m => new { m.State, m.Detail }).ToListAsync()).Select(m => (m.State, m.Detail)).ToList();
            var stillQueued = rows.Count(r => r.State == DeliveryState.Queued);
            if (stillQueued == 0 || lastProgress.Elapsed > TimeSpan.FromSeconds(30))
                break;
            if (stillQueued != lastQueued)
                (lastQueued, lastProgress) = (stillQueued, Stopwatch.StartNew());
            await Task.Delay(200);
        }

        var sent = rows.Count(r => r.State == DeliveryState.Sent);
        var failed = rows.Where(r => r.State == DeliveryState.Failed).ToList();
        output.WriteLine($"{messages.Count} messages ({corpus.Count} corpus, {mutations.Count} of {Mutations} mutations of seed {Seed}, " +
                         $"{mutations.Select(m => m.Kind).Distinct().Count()} damage kinds), {refusedAtIntake} refused at intake: " +
                         $"{tickets.Count} tickets in {intakeTime.TotalSeconds:0} s");
        output.WriteLine($"Replies: {queued} queued, refused in words: " +
                         (refusals.Count == 0 ? "none" : string.Join(", ", refusals.OrderBy(r => r.Key).Select(r => $"{r.Value} {r.Key}"))) +
                         $" ({replyTime.TotalSeconds:0} s)");
        output.WriteLine($"Outbox: {sent} Sent, {failed.Count} Failed, {rows.Count(r => r.State == DeliveryState.Queued)} still Queued " +
                         $"({watch.Elapsed.TotalSeconds:0} s in all); relay received {relay.Received.Count}");
        foreach (var group in failed.GroupBy(f => Kind(f.Detail)).OrderBy(g => g.Key))
            output.WriteLine($"  Failed: {group.Count()} {group.Key}");

        Assert.Equal(MimeMutator.DamageKinds.Length, mutations.Select(m => m.Kind).Distinct().Count());
        Assert.True(tickets.Count > 500, $"only {tickets.Count} tickets");
        Assert.Equal(tickets.Count, queued + refusals.Values.Sum());
        Assert.DoesNotContain("(no reason)", refusals.Keys);
        Assert.Equal(queued, rows.Count);
        Assert.Equal(0, rows.Count(r => r.State == DeliveryState.Queued));
        Assert.All(failed, f => Assert.False(string.IsNullOrWhiteSpace(f.Detail)));
        Assert.Equal(sent, relay.Received.Count);
    }

    /// <summary>A reason without the address it names, so reasons group by kind.</summary>
    private static string Kind(string? reason) =>
        reason is null ? "(no reason)" : reason.Split(['"', ':'])[0].Trim() is { Length: > 0 } head ? head : reason[..Math.Min(60, reason.Length)];
}
