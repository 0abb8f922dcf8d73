using ConnectiveOne.Core.Threading;

namespace ConnectiveOne.Tests.Threading;

[Trait("Database", "Unused")] // touches no database: runs in the SQLite pass only
public class MessageIdFormatTests
{
    [Fact]
    public void Generated_ids_parse_back_and_are_unique()
    {
        var token = MessageIdFormat.NewThreadToken();
        var a = MessageIdFormat.Generate(123, token, "Inbound.Example.com");
        var b = MessageIdFormat.Generate(123, token, "inbound.example.com");

        Assert.NotEqual(a, b);
        Assert.DoesNotContain('<', a);
        Assert.True(MessageIdFormat.TryParse($"<{a}>", out var parsed));
        Assert.Equal(new OurMessageId(123, token, "inbound.example.com"), parsed);
        Assert.True(MessageIdFormat.IsOurs(a, "inbound.example.com"));
        Assert.False(MessageIdFormat.IsOurs(a, "other.example.com"));
    }

    [Fact]
    public void Tokens_are_random_and_well_formed()
    {
        var tokens = Enumerable.Range(0, 200).Select(_ => MessageIdFormat.NewThreadToken()).ToList();
        Assert.Equal(200, tokens.Distinct().Count());
        Assert.All(tokens, t => Assert.Matches("^[a-z2-7]{16}$", t));
    }

    [Theory]
    [InlineData("t1-abcdefghijklmnop.abcdefghijklmnop@x.example", true)]
    [InlineData("<T42-ABCDEFGHIJKLMNOP.ABCDEFGHIJKLMNOP@X.EXAMPLE>", true)]
    [InlineData("t0-abcdefghijklmnop.abcdefghijklmnop@x.example", false)]
    [InlineData("t1-abcdefghijklmno.abcdefghijklmnop@x.example", false)]
    [InlineData("t1-abcdefghijklmnop@x.example", false)]
    [InlineData("t1-abcdefghijklmnop.abcdefghijklmnop", false)]
    [InlineData("CAFx1234@mail.gmail.com", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void TryParse_accepts_only_our_format(string? id, bool expected) =>
        Assert.Equal(expected, MessageIdFormat.TryParse(id, out _));

    [Fact]
    public void Generate_rejects_a_malformed_token() =>
        Assert.Throws<ArgumentException>(() => MessageIdFormat.Generate(1, "short", "x.example"));

    [Fact]
    public void Token_comparison_ignores_case_only()
    {
        Assert.True(MessageIdFormat.TokenMatches("ABCDEFGHIJKLMNOP", "abcdefghijklmnop"));
        Assert.False(MessageIdFormat.TokenMatches("abcdefghijklmnoq", "abcdefghijklmnop"));
        Assert.False(MessageIdFormat.TokenMatches("abc", "abcdefghijklmnop"));
    }
}
