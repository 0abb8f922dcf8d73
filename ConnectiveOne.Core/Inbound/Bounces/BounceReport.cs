namespace ConnectiveOne.Core.Inbound.Bounces;

/// <summary>What a delivery report says happened to the message it reports on.</summary>
public enum BounceAction
{
    /// <summary>Delivery failed for good (RFC 3464 <c>Action: failed</c>, or a bounce in words).</summary>
    Failed,
    /// <summary>Delivery is late and still being tried (<c>Action: delayed</c>, a 4.x.x warning).</summary>
    Delayed,
    /// <summary>A success report (<c>delivered</c>, <c>relayed</c>, <c>expanded</c>).</summary>
    Delivered,
}

/// <summary>
/// What a bounce (an RFC 3464 DSN or a non-standard notice from qmail, Exim, Postfix, Exchange, Gmail, Yahoo…) says
/// about the message it returns.
/// </summary>
/// <param name="OriginalMessageIds">Message-IDs the report names as the returned message, most trustworthy first
/// (the attached message or its headers, the report's In-Reply-To/References, then <c>Message-ID:</c> lines in its text); normalized.</param>
/// <param name="Recipients">The recipients delivery failed for (or was delayed for), lower case, in report order.</param>
/// <param name="Status">The enhanced status code (RFC 3463, e.g. 5.1.1), or null when the report gives none.</param>
/// <param name="Diagnostic">What went wrong, in words for an operator (never empty).</param>
/// <param name="Action">Failed, delayed, or a success report.</param>
public sealed record BounceReport(IReadOnlyList<string> OriginalMessageIds, IReadOnlyList<string> Recipients, string? Status,
    string Diagnostic, BounceAction Action)
{
    /// <summary>The recipients as one line for people, or null when the report names none.</summary>
    public string? RecipientText => Recipients.Count == 0 ? null : string.Join(", ", Recipients);
}
