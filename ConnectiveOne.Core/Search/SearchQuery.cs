using ConnectiveOne.Core.Tickets;

namespace ConnectiveOne.Core.Search;

/// <summary>Which part of a message a text term must appear in.</summary>
public enum SearchField { Any, From, To, Subject, FileName }

/// <summary>
/// Text a message must contain (or, <see cref="Negated"/>, that no message of the ticket may contain), matched
/// case-insensitively anywhere in the field, inside longer words too. A phrase keeps its spaces.
/// </summary>
public sealed record SearchTerm(SearchField Field, string Text, bool Negated = false)
{
    /// <summary>Shorter terms cannot use the trigram index: they only narrow what other terms found.</summary>
    public const int IndexedLength = 3;

    public bool Indexed => Text.Length >= IndexedLength;
}

/// <summary>
/// A parsed search (<see cref="SearchQueryParser"/>). A ticket matches when one of its messages has every positive
/// term and every message condition (<see cref="HasAttachment"/>, <see cref="Before"/>, <see cref="After"/>), no
/// message has a negated term, and the ticket meets the ticket conditions (status, unread, assignee, bot, number).
/// </summary>
public sealed record SearchQuery
{
    public IReadOnlyList<SearchTerm> Terms { get; init; } = [];
    public bool HasAttachment { get; init; }

    /// <summary>Messages dated (Date header, else when received) before this day, UTC.</summary>
    public DateOnly? Before { get; init; }

    /// <summary>Messages dated after this day (from the next midnight on), UTC.</summary>
    public DateOnly? After { get; init; }

    public TicketStatus? Status { get; init; }
    public bool Unread { get; init; }
    public bool Mine { get; init; }
    public bool Unassigned { get; init; }

    /// <summary>An operator's email address or display name.</summary>
    public string? Assignee { get; init; }

    /// <summary>A bot's name.</summary>
    public string? Bot { get; init; }
    public long? TicketNumber { get; init; }

    public IEnumerable<SearchTerm> Positive => Terms.Where(t => !t.Negated);
    public IEnumerable<SearchTerm> Negative => Terms.Where(t => t.Negated);

    /// <summary>Whether a message must meet something (rather than only the ticket).</summary>
    public bool HasMessageConditions => Positive.Any() || HasAttachment || Before is not null || After is not null;
}

/// <summary>A parsed query, or what is wrong with it in words.</summary>
public sealed record SearchParse(SearchQuery? Query, string? Error)
{
    public static SearchParse Fail(string error) => new(null, error);
}
