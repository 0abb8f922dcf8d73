using ConnectiveOne.Core.Inbound.Intake;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Tests.Inbound;

/// <summary>Every message file of the shared corpus goes through intake: none crashes it, each is stored or refused with a reason.</summary>
public sealed class CorpusIntakeTests
{
    private static IEnumerable<string> MessageFiles() =>
        new[] { "mime", "bounce", "replies", "thread/chatwoot" }
            .SelectMany(folder => Directory.EnumerateFiles(Corpus.PathOf(folder), "*", SearchOption.AllDirectories))
            .Where(f => Path.GetExtension(f) is ".eml" or ".msg" or ".txt")
            .Order(StringComparer.Ordinal);

    [Fact]
    public async Task Every_corpus_message_is_stored_or_refused_with_a_reason()
    {
        await using var app = new TestApp(settings: new Dictionary<string, string?> { ["ConnectiveOne:Smtp:MaxMessageBytes"] = "5000000" });
        var address = await InboundAddresses.AddAsync(app.Services, "corpus@acme.test");
        var intake = app.Services.GetRequiredService<InboundIntake>();
        var recipient = new InboundAddress(address.Id, address.Email, address.TechnicalAddress);

        var files = MessageFiles().ToList();
        Assert.True(files.Count > 500, $"only {files.Count} corpus files found");
        var outcomes = new Dictionary<string, string>();
        foreach (var file in files)
        {
            var raw = await File.ReadAllBytesAsync(file);
            if (raw.Length == 0)
                continue;
            try
            {
                var result = await intake.AcceptAsync(raw, [recipient], null, "corpus", CancellationToken.None);
                outcomes[file] = result.Deliveries.Single().Outcome.ToString();
            }
            catch (MessageTooLargeException e)
            {
                outcomes[file] = "Refused: " + e.Message;
            }
        }

        Assert.All(outcomes, o => Assert.True(o.Value is "Stored" or "Duplicate" || o.Value.StartsWith("Refused: "), $"{o.Key}: {o.Value}"));
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var stored = await db.Messages.CountAsync();
        Assert.Equal(outcomes.Count(o => o.Value == "Stored"), stored);
        // Unparsed mail keeps its reason and its bytes.
        var failed = await db.Messages.Where(m => (m.Flags & MessageFlags.ParseFailed) != 0).ToListAsync();
        Assert.All(failed, m => Assert.False(string.IsNullOrEmpty(m.ParseError)));
        Assert.Equal(stored, await db.RawMessages.CountAsync());
        // Bounces of the corpus are recognised on the way in.
        var bounces = await db.Messages.CountAsync(m => (m.Flags & MessageFlags.Bounce) != 0);
        Assert.True(bounces > 50, $"only {bounces} bounces flagged");
    }

    [Fact]
    public async Task Chatwoot_reply_vectors_join_the_ticket_they_reference()
    {
        await using var app = new TestApp();
        var address = await InboundAddresses.AddAsync(app.Services, "vectors@acme.test");
        var intake = app.Services.GetRequiredService<InboundIntake>();
        var recipient = new InboundAddress(address.Id, address.Email, address.TechnicalAddress);
        foreach (var name in (string[])["references.eml", "multiple_in_reply_to.eml"])
        {
            var reply = Corpus.LoadMessage(Corpus.PathOf($"thread/chatwoot/{name}"));
            var referenced = Core.Threading.MessageIds.Parse(reply.Headers.Where(h => h.Id is MimeKit.HeaderId.InReplyTo or MimeKit.HeaderId.References).Select(h => h.Value));
            Assert.NotEmpty(referenced);
            // The conversation's earlier message, stored first; the reply must land in its ticket.
            var original = new MimeKit.MimeMessage();
            original.From.Add(MimeKit.MailboxAddress.Parse("someone@example.org"));
            original.Subject = "Original " + name;
            original.MessageId = referenced[^1];
            original.Body = new MimeKit.TextPart("plain") { Text = "first" };
            using var buffer = new MemoryStream();
            original.WriteTo(buffer);
            var first = await intake.AcceptAsync(buffer.ToArray(), [recipient], null, "test", CancellationToken.None);
            var second = await intake.AcceptAsync(await File.ReadAllBytesAsync(Corpus.PathOf($"thread/chatwoot/{name}")), [recipient], null, "test", CancellationToken.None);
            Assert.Equal(first.Deliveries[0].TicketId, second.Deliveries[0].TicketId);
        }
    }
}
