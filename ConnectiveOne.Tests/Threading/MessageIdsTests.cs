using System.Text.Json;
using ConnectiveOne.Core.Threading;
using ConnectiveOne.Tests.TestSupport;

namespace ConnectiveOne.Tests.Threading;

[Trait("Database", "Unused")] // touches no database: runs in the SQLite pass only
public class MessageIdsTests
{
    [Theory]
    [InlineData("<a@b.example>", new[] { "a@b.example" })]
    [InlineData("<a@b> <c@d>", new[] { "a@b", "c@d" })]
    [InlineData("<a@b>\r\n <c@d>", new[] { "a@b", "c@d" })]
    [InlineData("<a@b>,<c@d>", new[] { "a@b", "c@d" })]
    [InlineData("<a@b> <a@b>", new[] { "a@b" })]
    [InlineData("bare@id.example", new[] { "bare@id.example" })]
    [InlineData("  m  ", new[] { "m" })]
    [InlineData("<a@b> (added by list) stray@x", new[] { "a@b", "stray@x" })]
    [InlineData("Your message of Mon, 1 Jan 2024 <a@b>", new[] { "a@b" })]
    [InlineData("<\"quoted\"@example.com>", new[] { "quoted@example.com" })]
    [InlineData("<test-in-reply-to>", new[] { "test-in-reply-to" })]
    [InlineData("<unterminated@x", new[] { "unterminated@x" })]
    [InlineData("<>", new string[0])]
    [InlineData("", new string[0])]
    [InlineData("   \t ", new string[0])]
    public void Parse_extracts_ids(string header, string[] expected) =>
        Assert.Equal(expected, MessageIds.Parse(header));

    [Fact]
    public void Parse_matches_stalwart_id_vectors()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Corpus.PathOf("header-vectors/stalwart/id.json")));
        var cases = doc.RootElement.EnumerateArray().ToList();
        Assert.NotEmpty(cases);
        foreach (var c in cases)
        {
            var header = c.GetProperty("header").GetString()!;
            var expected = c.GetProperty("expected") is { ValueKind: JsonValueKind.Array } arr
                ? arr.EnumerateArray().Select(e => e.GetString()!).ToArray()
                : [];
            Assert.True(expected.SequenceEqual(MessageIds.Parse(header)), $"header {JsonSerializer.Serialize(header)}: expected [{string.Join(", ", expected)}], got [{string.Join(", ", MessageIds.Parse(header))}]");
        }
    }

    [Fact]
    public void Facts_from_chatwoot_message_with_two_in_reply_to_ids()
    {
        var message = Corpus.LoadMessage(Corpus.PathOf("thread/chatwoot/multiple_in_reply_to.eml"));
        var facts = IncomingMessageFacts.From(message, DateTimeOffset.UnixEpoch);
        Assert.Equal(["4e6e35f5a38b4_479f13bb90078171@small-app-01.mail", "4e6e35f5a38b4_479f13bb90078131@small-app-01.mail"], facts.InReplyTo);
        Assert.Equal(["4e6e35f5a38b4_479f13bb90078178@small-app-01.mail"], facts.References);
        Assert.Equal("0CB459E0-0336-41DA-BC88-E6E28C697DDB@chatwoot.com", facts.MessageId);
    }

    [Fact]
    public void Facts_from_chatwoot_message_with_non_address_reference()
    {
        var message = Corpus.LoadMessage(Corpus.PathOf("thread/chatwoot/references.eml"));
        var facts = IncomingMessageFacts.From(message, DateTimeOffset.UnixEpoch);
        Assert.Equal(["4e6e35f5a38b4_479f13bb90078178@small-app-01.mail", "test-in-reply-to"], facts.References);
    }
}
