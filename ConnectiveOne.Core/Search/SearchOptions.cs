namespace ConnectiveOne.Core.Search;

/// <summary>The <c>ConnectiveOne:Search</c> section.</summary>
public sealed class SearchOptions
{
    /// <summary>
    /// PostgreSQL's text search configuration for word forms in ranking (<c>english</c>, <c>german</c>, …; beside
    /// <c>simple</c>, which keeps words as written). Changing it rebuilds the index at the next start. SQLite's
    /// index matches substrings and has no language.
    /// </summary>
    public string Language { get; set; } = "english";
}
