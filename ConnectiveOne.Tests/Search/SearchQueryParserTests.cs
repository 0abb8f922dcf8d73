using ConnectiveOne.Core.Search;
using ConnectiveOne.Core.Tickets;

namespace ConnectiveOne.Tests.Search;

/// <summary>The search language, parsed alone: what each form means, and the sentence each malformed query gets.</summary>
[Trait("Database", "Unused")] // touches no database: runs in the SQLite pass only
public class SearchQueryParserTests
{
    private static SearchQuery Parsed(string text)
    {
        var parse = SearchQueryParser.Parse(text);
        Assert.True(parse.Error is null, $"“{text}” was refused: {parse.Error}");
        return parse.Query!;
    }

    [Fact]
    public void Words_phrases_and_negations_become_plain_text_terms()
    {
        var q = Parsed("invoice  \"late   payment\" -spam -\"out of office\"");
        Assert.Equal([
            new SearchTerm(SearchField.Any, "invoice"),
            new SearchTerm(SearchField.Any, "late payment"),
            new SearchTerm(SearchField.Any, "spam", Negated: true),
            new SearchTerm(SearchField.Any, "out of office", Negated: true),
        ], q.Terms);
        Assert.True(q.HasMessageConditions);
    }

    [Fact]
    public void Field_operators_take_a_word_or_a_quoted_phrase()
    {
        var q = Parsed("from:anna@example.com TO:support cc:boss subject:\"order 42\" filename:report.pdf -from:noreply");
        Assert.Equal([
            new SearchTerm(SearchField.From, "anna@example.com"),
            new SearchTerm(SearchField.To, "support"),
            new SearchTerm(SearchField.To, "boss"),
            new SearchTerm(SearchField.Subject, "order 42"),
            new SearchTerm(SearchField.FileName, "report.pdf"),
            new SearchTerm(SearchField.From, "noreply", Negated: true),
        ], q.Terms);
    }

    [Fact]
    public void Ticket_conditions_are_read_into_their_fields()
    {
        var q = Parsed("is:Pending is:unread is:mine is:unassigned assignee:anna@example.com bot:Support has:attachment "
            + "after:2024-01-31 before:2024-03-01 #1234");
        Assert.Empty(q.Terms);
        Assert.Equal(TicketStatus.Pending, q.Status);
        Assert.True(q.Unread && q.Mine && q.Unassigned && q.HasAttachment);
        Assert.Equal("anna@example.com", q.Assignee);
        Assert.Equal("Support", q.Bot);
        Assert.Equal(new DateOnly(2024, 1, 31), q.After);
        Assert.Equal(new DateOnly(2024, 3, 1), q.Before);
        Assert.Equal(1234, q.TicketNumber);
    }

    [Fact]
    public void Stop_words_beside_other_words_are_dropped_but_kept_inside_quotes()
    {
        var q = Parsed("the invoice of \"the\"");
        Assert.Equal([new SearchTerm(SearchField.Any, "invoice"), new SearchTerm(SearchField.Any, "the")], q.Terms);
        Assert.Equal(TicketStatus.Open, Parsed("the is:open").Status);
    }

    [Fact]
    public void Short_words_narrow_a_search_that_has_a_longer_one()
    {
        var q = Parsed("QA invoice");
        Assert.Equal([false, true], q.Terms.Select(t => t.Indexed));
    }

    [Theory]
    [InlineData("\"unbalanced quote", "quote is not closed")]
    [InlineData("subject:\"open", "quote is not closed")]
    [InlineData("colour:red", "“colour:” is not a search operator")]
    [InlineData("http://example.com", "“http:” is not a search operator")]
    [InlineData(":", "starts with a colon")]
    [InlineData("a:b:c", "is not a search operator")]
    [InlineData("invoice*", "“*” is not part of the search language")]
    [InlineData("title^2", "“^” is not part of the search language")]
    [InlineData("apple NEAR pie", "“NEAR” is not an operator here")]
    [InlineData("apple OR pie", "“OR” is not an operator here")]
    [InlineData("say\"hi\"", "A quote can only start a phrase")]
    [InlineData("\"a\"b", "Leave a space after a closing quote")]
    [InlineData("\"\"", "Empty quotes")]
    [InlineData("the and of", "only common words")]
    [InlineData("ab", "too short")]
    [InlineData("ab is:open", "too short")]
    [InlineData("invoice -ab", "too short to leave out")]
    [InlineData("from:", "needs something after it")]
    [InlineData("has:pictures", "has:attachment")]
    [InlineData("is:closed", "use is:open, is:pending")]
    [InlineData("is:open is:resolved", "one status")]
    [InlineData("tag:vip", "no tags yet")]
    [InlineData("before:yesterday", "not a date")]
    [InlineData("after:2024-02-30", "not a date")]
    [InlineData("after:2024-03-01 before:2024-03-02", "No day is after")]
    [InlineData("-is:open", "cannot be left out")]
    [InlineData("-#12", "cannot be left out")]
    [InlineData("#0", "not a ticket number")]
    [InlineData("#99999999999999999999", "not a ticket number")]
    [InlineData("#1 #2", "one #N at a time")]
    [InlineData("   ", "Type something")]
    [InlineData("bell\u0007", "control characters")]
    public void Malformed_queries_get_a_sentence_saying_what_is_wrong(string text, string expected)
    {
        var parse = SearchQueryParser.Parse(text);
        Assert.Null(parse.Query);
        Assert.Contains(expected, parse.Error);
    }

    [Fact]
    public void Ten_thousand_characters_are_refused_with_the_limit()
    {
        var parse = SearchQueryParser.Parse(new string('x', 10_000));
        Assert.Contains($"at most {SearchQueryParser.MaxLength} characters", parse.Error);
    }

    [Fact]
    public void Too_many_terms_are_refused()
    {
        var parse = SearchQueryParser.Parse(string.Join(' ', Enumerable.Range(0, SearchQueryParser.MaxTerms + 1).Select(i => $"word{i}")));
        Assert.Contains($"at most {SearchQueryParser.MaxTerms} words", parse.Error);
    }
}
