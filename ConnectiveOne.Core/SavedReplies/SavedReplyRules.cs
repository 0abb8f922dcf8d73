namespace ConnectiveOne.Core.SavedReplies;

/// <summary>Who may see and change a saved reply, and what a valid one looks like. Pure, so tests read like the rules.</summary>
public static class SavedReplyRules
{
    public const int MaxTitle = 200;
    public const int MaxText = 20_000;

    /// <summary>Shared replies are everyone's; a personal one is its owner's alone (to anyone else it does not exist).</summary>
    public static bool Sees(SavedReply reply, string userId) => reply.Shared || reply.OwnerId == userId;

    /// <summary>Offered in the composer of a ticket of <paramref name="ticketBotId"/>: visible, and for that bot or for all bots.</summary>
    public static bool Offered(SavedReply reply, string userId, Guid? ticketBotId) =>
        Sees(reply, userId) && (reply.BotId is null || reply.BotId == ticketBotId);

    /// <summary>What is wrong with a title and text in words, or null.</summary>
    public static string? Problem(string? title, string? text)
    {
        if (string.IsNullOrWhiteSpace(title))
            return "A saved reply needs a title, so it can be found in the picker.";
        if (title.Trim().Length > MaxTitle)
            return $"The title is {title.Trim().Length} characters long; a saved reply's title can have at most {MaxTitle}.";
        if (string.IsNullOrWhiteSpace(text))
            return "A saved reply needs some text.";
        if (text.Length > MaxText)
            return $"The text is {text.Length} characters long; a saved reply can have at most {MaxText}.";
        return null;
    }

    /// <summary>
    /// Whether <paramref name="query"/> (what follows <c>#</c>, or the search box) matches: every word of it appears in the
    /// title or the text, in any case. Empty matches everything.
    /// </summary>
    public static bool Matches(SavedReply reply, string? query) =>
        string.IsNullOrWhiteSpace(query) || query.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .All(w => reply.Title.Contains(w, StringComparison.OrdinalIgnoreCase) || reply.Text.Contains(w, StringComparison.OrdinalIgnoreCase));
}
