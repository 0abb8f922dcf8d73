using System.Globalization;
using System.Text;
using ConnectiveOne.Core.Tickets;

namespace ConnectiveOne.Core.Search;

/// <summary>
/// The search language of the inbox and <c>GET /api/v1/tickets?q=</c> (API.md "Search"): words (all must match),
/// <c>"exact phrase"</c>, <c>-word</c>, <c>from:</c>, <c>to:</c> (also Cc), <c>subject:</c>, <c>has:attachment</c>,
/// <c>filename:</c>, <c>is:open|pending|resolved|unread|mine|unassigned</c>, <c>assignee:</c>, <c>bot:</c>,
/// <c>tag:</c>, <c>before:</c>/<c>after:</c> (YYYY-MM-DD) and <c>#1234</c>. Pure: anything it cannot read comes back
/// as a sentence for the person who typed it. Terms stay plain text; the index receives them as quoted literals,
/// so nothing typed here is ever index syntax.
/// </summary>
public static class SearchQueryParser
{
    public const int MaxLength = 500;
    public const int MaxTerms = 20;

    // Words every message has: a search of only these would list everything, and the index is no help with them.
    private static readonly HashSet<string> StopWords = new(StringComparer.OrdinalIgnoreCase)
    {
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not", "of",
        "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was", "will", "with",
    };

    // Boolean and proximity words of other search engines: taken literally they would surprise, so they are refused.
    private static readonly HashSet<string> SyntaxWords = new(StringComparer.Ordinal) { "AND", "OR", "NOT", "NEAR" };

    private const string Operators = "from:, to:, subject:, has:, filename:, is:, assignee:, bot:, tag:, before:, after:";

    public static SearchParse Parse(string? text)
    {
        text = text?.Trim() ?? "";
        if (text.Length == 0)
            return SearchParse.Fail("Type something to search for.");
        if (text.Length > MaxLength)
            return SearchParse.Fail($"A search can be at most {MaxLength} characters long; this one has {text.Length:N0}.");
        if (text.Any(c => char.IsControl(c) && !char.IsWhiteSpace(c)))
            return SearchParse.Fail("The search contains control characters; type it as plain text.");
        if (text.IndexOfAny(['*', '^']) is var star and >= 0)
            return SearchParse.Fail($"“{text[star]}” is not part of the search language: words already match inside longer words, so leave it out.");
        if (Tokenize(text, out var tokens) is { } tokenError)
            return SearchParse.Fail(tokenError);

        var query = new SearchQuery();
        var terms = new List<SearchTerm>();
        var stopWordsOnly = new List<string>();
        foreach (var token in tokens)
        {
            if (token.Operator is null)
            {
                if (!token.Quoted && SyntaxWords.Contains(token.Value))
                    return SearchParse.Fail($"“{token.Value}” is not an operator here: every word must match already; write -word to leave a word out.");
                if (!token.Quoted && token.Value.StartsWith('#') && token.Value.Length > 1 && token.Value[1..].All(char.IsAsciiDigit))
                {
                    if (token.Negated)
                        return SearchParse.Fail("A ticket number (#N) cannot be left out with “-”.");
                    if (!long.TryParse(token.Value[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number < 1)
                        return SearchParse.Fail($"“{token.Value}” is not a ticket number.");
                    if (query.TicketNumber is { } other && other != number)
                        return SearchParse.Fail("A ticket has one number: search for one #N at a time.");
                    query = query with { TicketNumber = number };
                    continue;
                }
                if (!token.Quoted && StopWords.Contains(token.Value))
                {
                    stopWordsOnly.Add(token.Value);
                    continue;
                }
                terms.Add(new SearchTerm(SearchField.Any, token.Value, token.Negated));
                continue;
            }
            if (Apply(query, token, terms) is var (applied, error) && error is not null)
                return SearchParse.Fail(error);
            query = applied!;
        }

        if (terms.Count > MaxTerms)
            return SearchParse.Fail($"A search can have at most {MaxTerms} words and phrases.");
        query = query with { Terms = terms };
        if (stopWordsOnly.Count > 0 && terms.Count == 0 && IsEmpty(query))
            return SearchParse.Fail($"“{string.Join(' ', stopWordsOnly)}” has only common words that nearly every message contains: add a more specific word.");
        if (query.Positive.Any() && !query.Positive.Any(t => t.Indexed))
            return SearchParse.Fail($"Search for at least one word of {SearchTerm.IndexedLength} or more characters; "
                + $"“{query.Positive.First().Text}” alone is too short.");
        if (query.Negative.FirstOrDefault(t => !t.Indexed) is { } shortNegative)
            return SearchParse.Fail($"“-{shortNegative.Text}” is too short to leave out: use at least {SearchTerm.IndexedLength} characters.");
        if (query.Before is { } before && query.After is { } after && after >= before.AddDays(-1))
            return SearchParse.Fail($"No day is after {after:yyyy-MM-dd} and before {before:yyyy-MM-dd}.");
        return new SearchParse(query, null);
    }

    private static bool IsEmpty(SearchQuery q) => q == new SearchQuery { Terms = q.Terms };

    private static (SearchQuery? Query, string? Error) Apply(SearchQuery query, Token token, List<SearchTerm> terms)
    {
        var name = token.Operator!;
        var value = token.Value;
        if (value.Length == 0)
            return (null, $"“{name}:” needs something after it, like {Example(name)}.");
        var field = name switch
        {
            "from" => SearchField.From,
            "to" or "cc" => SearchField.To,
            "subject" => SearchField.Subject,
            "filename" => SearchField.FileName,
            _ => (SearchField?)null,
        };
        if (field is { } f)
        {
            terms.Add(new SearchTerm(f, value, token.Negated));
            return (query, null);
        }
        if (token.Negated)
            return (null, $"“{name}:” cannot be left out with “-”; only words, phrases, from:, to:, subject: and filename: can.");
        switch (name)
        {
            case "has":
                return value.Equals("attachment", StringComparison.OrdinalIgnoreCase) || value.Equals("attachments", StringComparison.OrdinalIgnoreCase)
                    ? (query with { HasAttachment = true }, null)
                    : (null, $"“has:{value}” is unknown: the only one is has:attachment.");
            case "is":
                return value.ToLowerInvariant() switch
                {
                    "open" or "pending" or "resolved" => WithStatus(query, Enum.Parse<TicketStatus>(value, ignoreCase: true)),
                    "unread" => (query with { Unread = true }, null),
                    "mine" => (query with { Mine = true }, null),
                    "unassigned" => (query with { Unassigned = true }, null),
                    _ => (null, $"“is:{value}” is unknown: use is:open, is:pending, is:resolved, is:unread, is:mine or is:unassigned."),
                };
            case "assignee":
                return (query with { Assignee = value }, null);
            case "bot":
                return (query with { Bot = value }, null);
            case "tag":
                return (null, "Tickets have no tags yet, so tag: cannot find anything.");
            case "before" or "after":
                if (!DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
                    return (null, $"“{name}:{value}” is not a date: write it as YYYY-MM-DD, like {name}:2025-01-31.");
                return (name == "before" ? query with { Before = day } : query with { After = day }, null);
            default:
                return (null, $"“{name}:” is not a search operator. Known ones: {Operators}. To search for text with a colon, put it in quotes.");
        }
    }

    private static (SearchQuery?, string?) WithStatus(SearchQuery query, TicketStatus status) =>
        query.Status is { } other && other != status
            ? (null, $"A ticket has one status: is:{other.ToString().ToLowerInvariant()} and is:{status.ToString().ToLowerInvariant()} cannot both hold.")
            : (query with { Status = status }, null);

    private static string Example(string name) => name switch
    {
        "from" => "from:anna@example.com",
        "to" or "cc" => "to:support@example.com",
        "before" or "after" => $"{name}:2025-01-31",
        "is" => "is:open",
        "has" => "has:attachment",
        _ => $"{name}:word",
    };

    private sealed record Token(string? Operator, string Value, bool Negated, bool Quoted);

    // Splits on white space; "…" keeps spaces (also after an operator, as in subject:"two words"); a leading "-" negates.
    private static string? Tokenize(string text, out List<Token> tokens)
    {
        tokens = [];
        var i = 0;
        while (i < text.Length)
        {
            if (char.IsWhiteSpace(text[i]))
            {
                i++;
                continue;
            }
            var negated = false;
            if (text[i] == '-' && i + 1 < text.Length && !char.IsWhiteSpace(text[i + 1]))
            {
                negated = true;
                i++;
            }
            string? op = null;
            var start = i;
            while (i < text.Length && char.IsAsciiLetter(text[i]))
                i++;
            if (i < text.Length && text[i] == ':' && i > start)
            {
                op = text[start..i].ToLowerInvariant();
                i++;
            }
            else
            {
                i = start;
            }
            if (i < text.Length && text[i] == '"')
            {
                var close = text.IndexOf('"', i + 1);
                if (close < 0)
                    return "A quote is not closed: put a second \" after the phrase.";
                var phrase = Collapse(text[(i + 1)..close]);
                if (phrase.Length == 0 && op is null)
                    return "Empty quotes \"\" find nothing: put words between them.";
                i = close + 1;
                if (i < text.Length && !char.IsWhiteSpace(text[i]))
                    return "Leave a space after a closing quote.";
                tokens.Add(new Token(op, phrase, negated, Quoted: true));
                continue;
            }
            var wordStart = i;
            while (i < text.Length && !char.IsWhiteSpace(text[i]))
            {
                if (text[i] == '"')
                    return "A quote can only start a phrase: write \"exact phrase\" with a space before it.";
                i++;
            }
            var word = text[wordStart..i];
            if (op is null && word.Contains(':'))
                return word.StartsWith(':')
                    ? $"“{word}” starts with a colon: an operator has a name before it, like from:anna. To search for it as text, put it in quotes."
                    : $"“{word}” is not a search operator. Known ones: {Operators}. To search for text with a colon, put it in quotes.";
            if (op is null && word.Length == 0)
                continue;
            tokens.Add(new Token(op, word, negated, Quoted: false));
        }
        return null;
    }

    private static string Collapse(string phrase)
    {
        var sb = new StringBuilder(phrase.Length);
        foreach (var part in phrase.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            sb.Append(sb.Length > 0 ? " " : "").Append(part);
        return sb.ToString();
    }
}
