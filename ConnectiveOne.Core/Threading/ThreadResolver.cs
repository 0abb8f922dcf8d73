using MimeKit;

namespace ConnectiveOne.Core.Threading;

/// <summary>Which rule attached a message to a ticket, in the order they are tried.</summary>
public enum ThreadRule
{
    /// <summary>In-Reply-To/References carried one of our Message-IDs with the ticket's secret token.</summary>
    OurMessageId,
    /// <summary>In-Reply-To/References named a Message-ID already stored on a ticket.</summary>
    StoredMessageId,
    /// <summary>A <c>[#N]</c> subject token, accepted because the sender already takes part in ticket N.</summary>
    SubjectToken,
    /// <summary>Same sender and same normalized subject as a ticket active within the window.</summary>
    SenderAndSubject,
    /// <summary>Nothing matched.</summary>
    NewTicket,
}

/// <summary>The facts of an incoming message that threading looks at.</summary>
/// <param name="MessageId">Its own Message-ID (normalized or not), excluded from the candidates so a message never matches itself.</param>
/// <param name="InReplyTo">Ids from all In-Reply-To headers (there may be several ids).</param>
/// <param name="References">Ids from References, oldest first as in the header.</param>
/// <param name="SenderAddress">The From address (not the envelope sender); empty when there is none.</param>
/// <param name="Subject">The decoded subject.</param>
/// <param name="Date">When the message arrived. Prefer the receive time: the Date header is set by the sender.</param>
public sealed record IncomingMessageFacts(
    string? MessageId,
    IReadOnlyList<string> InReplyTo,
    IReadOnlyList<string> References,
    string SenderAddress,
    string? Subject,
    DateTimeOffset Date)
{
    /// <summary>Reads the facts from a parsed message; <paramref name="receivedAt"/> becomes <see cref="Date"/>.</summary>
    public static IncomingMessageFacts From(MimeMessage message, DateTimeOffset receivedAt)
    {
        var inReplyTo = MessageIds.Parse(message.Headers.Where(h => h.Id == HeaderId.InReplyTo).Select(h => h.Value));
        var references = MessageIds.Parse(message.Headers.Where(h => h.Id == HeaderId.References).Select(h => h.Value));
        var sender = message.From.Mailboxes.FirstOrDefault()?.Address ?? "";
        return new IncomingMessageFacts(message.MessageId, inReplyTo, references, sender, message.Subject, receivedAt);
    }
}

/// <summary>Why a message goes where it goes; log <see cref="Rule"/>, <see cref="MatchedKey"/> and <see cref="Detail"/>.</summary>
/// <param name="Rule">The rule that decided.</param>
/// <param name="TicketId">The existing ticket, or null for <see cref="ThreadRule.NewTicket"/>.</param>
/// <param name="MatchedKey">The id, ticket number or subject key that matched.</param>
/// <param name="Detail">Notes worth logging, e.g. one of our Message-IDs presented with a wrong token.</param>
/// <param name="Subject">The normalized subject, so the caller stores the same key it will later look up.</param>
public sealed record ThreadDecision(ThreadRule Rule, long? TicketId, string? MatchedKey, string? Detail, NormalizedSubject Subject)
{
    public bool IsNewTicket => Rule == ThreadRule.NewTicket;
}

/// <summary>A ticket's id, number and secret thread token (see <see cref="MessageIdFormat"/>).</summary>
public sealed record TicketThreadSecret(long TicketId, long TicketNumber, string ThreadToken);

/// <summary>A stored message's normalized Message-ID and the ticket it belongs to.</summary>
public sealed record StoredMessageId(string MessageId, long TicketId);

/// <summary>A ticket found by sender and subject, with the time of its latest message.</summary>
public sealed record RecentTicket(long TicketId, DateTimeOffset LastActivityAt);

/// <summary>
/// What the resolver asks the store. Each method is meant to be one indexed query; it exists as an
/// interface because the EF implementation and the in-memory test implementation are both real.
/// Addresses are passed lower-cased and trimmed; Message-IDs in <see cref="MessageIds.Normalize"/> form.
/// </summary>
public interface IThreadLookup
{
    /// <summary>Tickets with these numbers (missing ones are left out). <c>WHERE Number IN (…)</c>.</summary>
    Task<IReadOnlyList<TicketThreadSecret>> FindTicketSecretsAsync(IReadOnlyCollection<long> ticketNumbers, CancellationToken cancellationToken);

    /// <summary>Stored messages whose Message-ID is one of these (ordinal match). <c>WHERE MessageId IN (…)</c>.</summary>
    Task<IReadOnlyList<StoredMessageId>> FindByMessageIdsAsync(IReadOnlyCollection<string> messageIds, CancellationToken cancellationToken);

    /// <summary>
    /// The id of ticket <paramref name="ticketNumber"/> if it exists and <paramref name="senderAddress"/> is its customer, one of its participants, or
    /// already sent mail into it; else null. Our own replies do not count: their From is our address, which anyone can forge.
    /// </summary>
    Task<long?> FindTicketWithParticipantAsync(long ticketNumber, string senderAddress, CancellationToken cancellationToken);

    /// <summary>
    /// The ticket most recently active since <paramref name="since"/> that has a message from
    /// <paramref name="senderAddress"/> with this <see cref="NormalizedSubject.MatchKey"/>; else null.
    /// </summary>
    Task<RecentTicket?> FindRecentBySenderAndSubjectAsync(string senderAddress, string subjectKey, DateTimeOffset since, CancellationToken cancellationToken);
}

/// <summary>Tuning for <see cref="ThreadResolver"/>.</summary>
public sealed record ThreadResolverOptions
{
    /// <summary>How far back rule 4 (sender + subject) looks, measured from the message's arrival.</summary>
    public TimeSpan SubjectWindow { get; init; } = TimeSpan.FromDays(30);

    /// <summary>Turns rule 4 off.</summary>
    public bool UseSenderAndSubject { get; init; } = true;

    /// <summary>Header ids considered at most (In-Reply-To first, then the newest References); bounds the IN (…) lists.</summary>
    public int MaxCandidateIds { get; init; } = 50;

    /// <summary>Extra reply prefixes for <see cref="SubjectNormalizer"/>.</summary>
    public IReadOnlyList<string>? ExtraSubjectPrefixes { get; init; }
}

/// <summary>
/// Decides which ticket an incoming message belongs to, trying in order: (1) our own Message-ID with the
/// right token, (2) a stored Message-ID, (3) a <c>[#N]</c> subject token from a participant of N,
/// (4) same sender and subject within a window, else (5) a new ticket. Modelled on Chatwoot's
/// <c>app/mailboxes</c> (in_reply_to, then references, then the conversation uuid), extended with rules 3 and 4.
/// </summary>
/// <remarks>
/// Asks <see cref="IThreadLookup"/> lazily rather than pre-fetching every key: most replies stop at
/// rule 1 or 2, so a typical message costs one or two indexed queries. Everything else is pure.
/// Duplicate detection (same Message-ID delivered twice) is the caller's job and happens before this.
/// </remarks>
public sealed class ThreadResolver(IThreadLookup lookup, ThreadResolverOptions? options = null)
{
    private readonly ThreadResolverOptions _options = options ?? new ThreadResolverOptions();

    public async Task<ThreadDecision> ResolveAsync(IncomingMessageFacts message, CancellationToken cancellationToken = default)
    {
        var subject = SubjectOf(message);
        var candidates = CandidateIds(message);
        string? detail = null;

        // Rule 1: our own Message-ID, authenticated by the ticket's secret token.
        var ours = candidates
            .Select(id => MessageIdFormat.TryParse(id, out var parsed) ? (Raw: id, Parsed: parsed) : default)
            .Where(o => o.Parsed is not null)
            .ToList();
        IReadOnlyList<StoredMessageId>? stored = null;
        if (ours.Count > 0)
        {
            var secrets = await lookup.FindTicketSecretsAsync(ours.Select(o => o.Parsed.TicketNumber).Distinct().ToList(), cancellationToken);
            foreach (var (raw, id) in ours)
            {
                var ticket = secrets.FirstOrDefault(s => s.TicketNumber == id.TicketNumber);
                if (ticket is null)
                    continue;
                if (MessageIdFormat.TokenMatches(id.ThreadToken, ticket.ThreadToken))
                {
                    // The id names the ticket the reply was written in; a split may have moved that reply to a new
                    // ticket since, and the answer follows the reply. (Rule 2 asks the same question next anyway.)
                    stored ??= await lookup.FindByMessageIdsAsync(candidates, cancellationToken);
                    var moved = stored.FirstOrDefault(s => string.Equals(s.MessageId, raw, StringComparison.Ordinal));
                    return new ThreadDecision(ThreadRule.OurMessageId, moved?.TicketId ?? ticket.TicketId, $"#{id.TicketNumber}", detail, subject);
                }
                detail ??= $"Our Message-ID format for ticket #{id.TicketNumber} with a wrong token was ignored.";
            }
        }

        // Rule 2: any referenced id we have stored; the first candidate in preference order wins.
        if (candidates.Count > 0)
        {
            stored ??= await lookup.FindByMessageIdsAsync(candidates, cancellationToken);
            foreach (var id in candidates)
            {
                var hit = stored.FirstOrDefault(s => string.Equals(s.MessageId, id, StringComparison.Ordinal));
                if (hit is not null)
                    return new ThreadDecision(ThreadRule.StoredMessageId, hit.TicketId, id, detail, subject);
            }
        }

        var sender = SenderOf(message);

        // Rule 3: "[#N]" only counts for someone already in ticket N, or anyone could post into any ticket.
        if (subject.TicketNumber is { } number && sender.Length > 0)
        {
            var ticketId = await lookup.FindTicketWithParticipantAsync(number, sender, cancellationToken);
            if (ticketId is { } id)
                return new ThreadDecision(ThreadRule.SubjectToken, id, $"#{number}", detail, subject);
            detail ??= $"Subject token [#{number}] ignored: no such ticket or the sender is not a participant.";
        }

        // Rule 4: same sender, same base subject, recent activity. An empty subject would merge unrelated mail.
        if (UsesSenderAndSubject(sender, subject, _options))
        {
            var since = SubjectWindowStart(message, _options);
            var recent = await lookup.FindRecentBySenderAndSubjectAsync(sender, subject.MatchKey, since, cancellationToken);
            if (recent is not null && recent.LastActivityAt >= since)
                return new ThreadDecision(ThreadRule.SenderAndSubject, recent.TicketId, subject.MatchKey, detail, subject);
        }

        return new ThreadDecision(ThreadRule.NewTicket, null, null, detail, subject);
    }

    // The questions the rules will ask, computable without a lookup: a caller threading many messages at once
    // (the intake writer) fetches their answers in one go first.

    /// <summary>The normalized subject the rules look at.</summary>
    public NormalizedSubject SubjectOf(IncomingMessageFacts message) => SubjectOf(message, _options);

    /// <inheritdoc cref="SubjectOf(IncomingMessageFacts)"/>
    public static NormalizedSubject SubjectOf(IncomingMessageFacts message, ThreadResolverOptions options) =>
        SubjectNormalizer.Normalize(message.Subject, stripListTags: true, options.ExtraSubjectPrefixes);

    /// <summary>The sender as the lookups receive it: trimmed, lower case, empty when there is none.</summary>
    public static string SenderOf(IncomingMessageFacts message) => message.SenderAddress.Trim().ToLowerInvariant();

    /// <summary>Whether rule 4 (sender + subject) applies: an empty subject or sender would merge unrelated mail.</summary>
    public static bool UsesSenderAndSubject(string sender, NormalizedSubject subject, ThreadResolverOptions options) =>
        options.UseSenderAndSubject && sender.Length > 0 && subject.MatchKey.Length > 0;

    /// <summary>The oldest activity rule 4 accepts for this message.</summary>
    public static DateTimeOffset SubjectWindowStart(IncomingMessageFacts message, ThreadResolverOptions options) => message.Date - options.SubjectWindow;

    /// <summary>In-Reply-To ids first, then References newest first; normalized, de-duplicated, without the message's own id.</summary>
    public IReadOnlyList<string> CandidateIds(IncomingMessageFacts message) => CandidateIds(message, _options);

    /// <inheritdoc cref="CandidateIds(IncomingMessageFacts)"/>
    public static IReadOnlyList<string> CandidateIds(IncomingMessageFacts message, ThreadResolverOptions options)
    {
        var own = message.MessageId is null ? null : MessageIds.Normalize(message.MessageId);
        return message.InReplyTo
            .Concat(message.References.Reverse())
            .Select(MessageIds.Normalize)
            .Where(id => id.Length > 0 && !string.Equals(id, own, StringComparison.Ordinal))
            .Distinct(StringComparer.Ordinal)
            .Take(options.MaxCandidateIds)
            .ToList();
    }
}
