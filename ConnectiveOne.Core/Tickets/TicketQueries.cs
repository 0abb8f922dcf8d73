using ConnectiveOne.Core.Persistence;
using Microsoft.EntityFrameworkCore;

namespace ConnectiveOne.Core.Tickets;

/// <summary>A ticket in a list (API.md TicketSummary); <see cref="Number"/> is the id.</summary>
public sealed record TicketSummary(long Id, long Number, string Subject, string Status, Guid? BotId, string Customer,
    string? CustomerName, string? AssigneeId, int MessageCount, DateTimeOffset LastMessageAt)
{
    /// <summary>The start of the last message's new words, one line (null for tickets from before it was kept).</summary>
    public string? Preview { get; init; }

    /// <summary>Who answered last: "Inbound" (the customer) or "Outbound" (we); null before any answer was recorded.</summary>
    public string? LastDirection { get; init; }

    /// <summary>Whether any message of the ticket carries a file.</summary>
    public bool HasAttachments { get; init; }

    /// <summary>When a snoozed ticket opens again; null when it is not snoozed.</summary>
    public DateTimeOffset? SnoozedUntil { get; init; }

    /// <summary>Why its wake failed, in words (<see cref="Ticket.SnoozeFailure"/>).</summary>
    public string? SnoozeFailure { get; init; }
}

/// <summary>An attachment of a message, without its content.</summary>
public sealed record AttachmentInfo(long Id, string FileName, string ContentType, long Size, string Sha256, string? ContentId, bool IsInline);

/// <summary>One message of a ticket as shown (API.md); <see cref="Html"/> is sanitized already.</summary>
public sealed record TicketMessageView(long Id, string Direction, string From, string? FromName, string To, string? Cc, string Subject,
    string? MessageId, string? InReplyTo, DateTimeOffset? Date, DateTimeOffset ReceivedAt, string? Text, string? Html,
    bool HasRemoteImages, IReadOnlyList<string> Flags, string? ParseError, string? Delivery, string? DeliveryDetail,
    long RawSize, IReadOnlyList<AttachmentInfo> Attachments)
{
    /// <summary>The operator who wrote an outbound message or note; null for mail that came in.</summary>
    public MessageAuthor? Author { get; init; }

    /// <summary>For a Bounced reply: the recipient(s) the bounce names (API.md "Conversation": <c>bouncedRecipient</c>).</summary>
    public string? BouncedRecipient { get; init; }

    /// <summary>For mail that came in: the sender's role in the ticket ("Customer", "Cc", "ThirdParty"); null when the sender is none of them.</summary>
    public string? FromRole { get; init; }
}

/// <summary>Who wrote a reply or note: the user's id and the name the team sees.</summary>
public sealed record MessageAuthor(string Id, string DisplayName);

/// <summary>Someone taking part in a ticket (API.md "Conversation"): the customer first, then the others as they joined.</summary>
public sealed record ParticipantView(string Email, string? Name, string Role);

/// <summary>
/// A ticket with one page of its messages in the order they arrived (the last ones unless asked for older);
/// <see cref="HasOlder"/> says whether messages before the first one shown exist. A ticket that reached the per-ticket
/// cap names the ticket that continues it (<see cref="ContinuedByTicketId"/>), and that one the full one it continues.
/// </summary>
public sealed record TicketDetails(long Id, long Number, string Subject, string Status, Guid? BotId, string Customer,
    string? CustomerName, string? AssigneeId, int MessageCount, DateTimeOffset LastMessageAt, DateTimeOffset CreatedAt,
    Guid AddressId, IReadOnlyList<TicketMessageView> Messages, bool HasOlder = false, long? ContinuesTicketId = null,
    long? ContinuedByTicketId = null)
{
    /// <summary>The customer and everyone else who took part (From/To/Cc of mail that came in, Cc added to replies).</summary>
    public IReadOnlyList<ParticipantView> Participants { get; init; } = [];

    /// <summary>The ticket's audit trail, oldest first (API.md "Workflow": <c>events</c>): assignment, status, merge, split.</summary>
    public IReadOnlyList<TicketEventView> Events { get; init; } = [];

    /// <summary>When a snoozed ticket opens again (API.md "Workflow": <c>snoozedUntil</c>); null when it is not snoozed.</summary>
    public DateTimeOffset? SnoozedUntil { get; init; }

    /// <summary>Why its wake failed, in words (<see cref="Ticket.SnoozeFailure"/>).</summary>
    public string? SnoozeFailure { get; init; }
}

/// <summary>Messages of a ticket, oldest first, and whether the ticket has messages before the first of them.</summary>
public sealed record MessagePage(IReadOnlyList<TicketMessageView> Messages, bool HasOlder);

/// <summary>A page of tickets and how many match in all.</summary>
public sealed record TicketPage(IReadOnlyList<TicketSummary> Items, int Total);

/// <summary>
/// Which tickets to list; all filters optional. <see cref="Query"/> matches subject or customer;
/// <see cref="AssigneeId"/> keeps one operator's tickets; <see cref="RoutedOnly"/> leaves out tickets of
/// addresses no bot serves yet (the inbox shows a bot's tickets).
/// </summary>
public sealed record TicketFilter(Guid? BotId = null, TicketStatus? Status = null, string? Query = null,
    string? AssigneeId = null, bool RoutedOnly = false)
{
    /// <summary>True: only snoozed tickets; false: none of them (the inbox's status tabs); null: both (the API, "All").</summary>
    public bool? Snoozed { get; init; }
}

/// <summary>A file to send: an attachment's content or a raw message, with its name and type.</summary>
public sealed record DownloadContent(string FileName, string ContentType, byte[] Bytes);

/// <summary>
/// Read side of tickets for the API and the inbox pages: paged lists (newest activity first, answered by the
/// (BotId, Status, LastMessageAt), (Status, LastMessageAt, BotId), (AssigneeId, LastMessageAt, BotId) and LastMessageAt indexes), one ticket with its messages, and downloads.
/// </summary>
public sealed class TicketQueries(AppDbContext db)
{
    public const int MaxPageSize = 200;

    /// <param name="filter">Bot, status and search text.</param>
    /// <param name="page">From 1.</param>
    /// <param name="pageSize">1 to <see cref="MaxPageSize"/>.</param>
    /// <param name="cancellationToken">Cancels the queries.</param>
    public async Task<TicketPage> ListAsync(TicketFilter filter, int page, int pageSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(page, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageSize, MaxPageSize);
        var tickets = db.Tickets.AsNoTracking();
        if (filter.BotId is { } botId)
            tickets = tickets.Where(t => t.BotId == botId);
        // Merged tickets live on only as their number: a status filter leaves them out by itself, "all" says so.
        tickets = filter.Status is { } status ? tickets.Where(t => t.Status == status) : tickets.Where(t => t.Status != TicketStatus.Merged);
        if (filter.AssigneeId is { } assignee)
            tickets = tickets.Where(t => t.AssigneeId == assignee);
        if (filter.RoutedOnly)
            tickets = tickets.Where(t => t.BotId != null);
        if (filter.Snoozed is { } snoozed)
            tickets = snoozed ? tickets.Where(t => t.SnoozedUntil != null) : tickets.Where(t => t.SnoozedUntil == null);
        if (!string.IsNullOrWhiteSpace(filter.Query))
        {
            var pattern = "%" + filter.Query.Trim().Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";
            // SQLite's LIKE ignores case (ASCII); PostgreSQL's does not, so there the same search uses ILIKE.
            tickets = db.Database.IsNpgsql()
                ? tickets.Where(t => EF.Functions.ILike(t.Subject, pattern, "\\") || EF.Functions.ILike(t.CustomerEmail, pattern, "\\")
                                     || (t.CustomerName != null && EF.Functions.ILike(t.CustomerName, pattern, "\\")))
                : tickets.Where(t => EF.Functions.Like(t.Subject, pattern, "\\") || EF.Functions.Like(t.CustomerEmail, pattern, "\\")
                                     || (t.CustomerName != null && EF.Functions.Like(t.CustomerName, pattern, "\\")));
        }
        var total = await tickets.CountAsync(cancellationToken);
        var items = await tickets
            .OrderByDescending(t => t.LastMessageAt).ThenByDescending(t => t.Id)
            .Skip((page - 1) * pageSize).Take(pageSize)
            .Select(t => new { t.Id, t.Subject, t.Status, t.BotId, t.CustomerEmail, t.CustomerName, t.AssigneeId, t.MessageCount, t.LastMessageAt,
                t.LastMessagePreview, t.LastDirection, t.HasAttachments, t.SnoozedUntil, t.SnoozeFailure })
            .ToListAsync(cancellationToken);
        return new TicketPage(items.Select(t => new TicketSummary(t.Id, t.Id, t.Subject, t.Status.ToString(), t.BotId, t.CustomerEmail,
            t.CustomerName, t.AssigneeId, t.MessageCount, t.LastMessageAt)
        {
            Preview = t.LastMessagePreview,
            LastDirection = t.LastDirection?.ToString(),
            HasAttachments = t.HasAttachments,
            SnoozedUntil = t.SnoozedUntil,
            SnoozeFailure = t.SnoozeFailure,
        }).ToList(), total);
    }

    /// <summary>Messages a ticket page holds when no limit is asked for.</summary>
    public const int DefaultMessageLimit = 50;

    /// <summary>The most messages one page may ask for: a ticket can hold thousands (API.md, bounded tickets).</summary>
    public const int MaxMessageLimit = 200;

    /// <summary>
    /// The ticket with the last <paramref name="limit"/> messages before message <paramref name="before"/> (or the
    /// newest ones), oldest first, with their attachments; null when there is no ticket <paramref name="id"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is outside 1 to <see cref="MaxMessageLimit"/>.</exception>
    public async Task<TicketDetails?> GetAsync(long id, CancellationToken cancellationToken, long? before = null, int limit = DefaultMessageLimit)
    {
        if (await GetHeaderAsync(id, cancellationToken) is not { } ticket)
            return null;
        var page = await MessagesAsync(ticket.Id, before, limit, cancellationToken) ?? new MessagePage([], false);
        return ticket with { Messages = page.Messages, HasOlder = page.HasOlder };
    }

    /// <summary>
    /// Up to <paramref name="limit"/> messages of ticket <paramref name="ticketId"/> that came before message
    /// <paramref name="before"/> (all when null), oldest first. Keyset paging on (ReceivedAt, Id) over the
    /// (TicketId, ReceivedAt) index, so a page costs the same at message 50 as at message 5,000. Null when
    /// <paramref name="before"/> is not a message of this ticket.
    /// </summary>
    public async Task<MessagePage?> MessagesAsync(long ticketId, long? before, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxMessageLimit);
        var messages = db.Messages.AsNoTracking().Where(m => m.TicketId == ticketId);
        if (before is { } beforeId)
        {
            var anchor = await db.Messages.AsNoTracking().Where(m => m.Id == beforeId && m.TicketId == ticketId)
                .Select(m => new { m.ReceivedAt }).FirstOrDefaultAsync(cancellationToken);
            if (anchor is null)
                return null;
            messages = messages.Where(m => m.ReceivedAt < anchor.ReceivedAt || (m.ReceivedAt == anchor.ReceivedAt && m.Id < beforeId));
        }
        // One more than asked tells whether older ones exist without counting them.
        var newestFirst = await messages
            .OrderByDescending(m => m.ReceivedAt).ThenByDescending(m => m.Id)
            .Take(limit + 1)
            .Include(m => m.Attachments)
            .AsSplitQuery()
            .ToListAsync(cancellationToken);
        var hasOlder = newestFirst.Count > limit;
        return new MessagePage(await ViewsAsync(ticketId, newestFirst.Take(limit).Reverse().ToList(), cancellationToken), hasOlder);
    }

    /// <summary>
    /// These messages of a ticket, oldest first (for a view that appends what was just added); ids of other tickets'
    /// messages are left out.
    /// </summary>
    public async Task<IReadOnlyList<TicketMessageView>> GetMessagesAsync(long ticketId, IReadOnlyCollection<long> messageIds,
        CancellationToken cancellationToken)
    {
        var ids = messageIds.ToArray();
        var messages = await db.Messages.AsNoTracking().Where(m => m.TicketId == ticketId && ids.Contains(m.Id))
            .OrderBy(m => m.ReceivedAt).ThenBy(m => m.Id)
            .Include(m => m.Attachments).AsSplitQuery().ToListAsync(cancellationToken);
        return await ViewsAsync(ticketId, messages, cancellationToken);
    }

    /// <summary>
    /// The ticket without messages (a view refreshing its header); null when there is none. The number of a merged
    /// ticket opens the ticket it was merged into: the header returned is that one's (compare <see cref="TicketDetails.Id"/>).
    /// </summary>
    public async Task<TicketDetails?> GetHeaderAsync(long id, CancellationToken cancellationToken)
    {
        var ticket = await db.Tickets.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id, cancellationToken);
        // One hop is enough: a merge repoints the tickets merged into the one it merges away.
        if (ticket?.MergedIntoTicketId is { } mergedInto)
            ticket = await db.Tickets.AsNoTracking().FirstOrDefaultAsync(t => t.Id == mergedInto, cancellationToken);
        if (ticket is null)
            return null;
        id = ticket.Id;
        // Only a ticket that reached the cap has a continuation; the (ContinuesTicketId) index answers for all others at once.
        var continuedBy = await db.Tickets.AsNoTracking().Where(t => t.ContinuesTicketId == id)
            .OrderByDescending(t => t.Id).Select(t => (long?)t.Id).FirstOrDefaultAsync(cancellationToken);
        return new TicketDetails(ticket.Id, ticket.Id, ticket.Subject, ticket.Status.ToString(), ticket.BotId,
            ticket.CustomerEmail, ticket.CustomerName, ticket.AssigneeId, ticket.MessageCount, ticket.LastMessageAt, ticket.CreatedAt,
            ticket.AddressId, [], false, ticket.ContinuesTicketId, continuedBy)
        {
            Participants = await ParticipantsAsync(ticket.Id, ticket.CustomerEmail, ticket.CustomerName, cancellationToken),
            Events = await EventsAsync(ticket.Id, cancellationToken),
            SnoozedUntil = ticket.SnoozedUntil,
            SnoozeFailure = ticket.SnoozeFailure,
        };
    }

    /// <summary>A ticket's events, oldest first, with the actors' names (one query for the events, one for their users).</summary>
    public async Task<IReadOnlyList<TicketEventView>> EventsAsync(long ticketId, CancellationToken cancellationToken)
    {
        var events = await db.TicketEvents.AsNoTracking().Where(e => e.TicketId == ticketId).OrderBy(e => e.At).ThenBy(e => e.Id)
            .ToListAsync(cancellationToken);
        if (events.Count == 0)
            return [];
        var actorIds = events.Select(e => e.ActorUserId).OfType<string>().Distinct().ToList();
        var users = actorIds.Count == 0 ? [] : await db.Users.AsNoTracking().Where(u => actorIds.Contains(u.Id)).ToListAsync(cancellationToken);
        var names = users.ToDictionary(u => u.Id, u => u.Name);
        return events.Select(e => new TicketEventView(e.Id, e.Kind.ToString(),
            e.ActorUserId is { } actor ? names.GetValueOrDefault(actor) ?? "A former user" : null, e.At, e.Detail, e.ActorUserId, e.OtherTicketId,
            e is { Kind: TicketEventKind.Merged or TicketEventKind.SplitOff, UndoneAt: null } ? e.At + TicketWorkflow.UndoWindow : null)).ToList();
    }

    /// <summary>The customer (when the ticket has a reply address) and then every other participant in the order they joined.</summary>
    public async Task<IReadOnlyList<ParticipantView>> ParticipantsAsync(long ticketId, string customerEmail, string? customerName,
        CancellationToken cancellationToken)
    {
        var others = await db.Participants.AsNoTracking().Where(p => p.TicketId == ticketId).OrderBy(p => p.AddedAt).ThenBy(p => p.Email)
            .Select(p => new ParticipantView(p.Email, p.Name, p.Role.ToString())).ToListAsync(cancellationToken);
        return customerEmail.Length == 0 ? others : [new ParticipantView(customerEmail, customerName, nameof(ParticipantRole.Customer)), .. others];
    }

    // The views with what a row alone does not say: each reply's author (one query for the page's users) and each
    // incoming message's sender role (the ticket's customer and participants, two small indexed queries).
    private async Task<IReadOnlyList<TicketMessageView>> ViewsAsync(long ticketId, IReadOnlyList<TicketMessage> messages, CancellationToken cancellationToken)
    {
        if (messages.Count == 0)
            return [];
        var authorIds = messages.Select(m => m.AuthorUserId).OfType<string>().Distinct().ToList();
        var authors = authorIds.Count == 0 ? [] : await db.Users.AsNoTracking().Where(u => authorIds.Contains(u.Id))
            .Select(u => new { u.Id, u.DisplayName, u.Email, u.UserName }).ToListAsync(cancellationToken);
        var names = authors.ToDictionary(u => u.Id, u => new MessageAuthor(u.Id, !string.IsNullOrWhiteSpace(u.DisplayName) ? u.DisplayName : u.Email ?? u.UserName ?? u.Id));
        Dictionary<string, string> roles = [];
        if (messages.Any(m => m.Direction == MessageDirection.Inbound))
        {
            var customer = await db.Tickets.AsNoTracking().Where(t => t.Id == ticketId).Select(t => t.CustomerEmail).FirstOrDefaultAsync(cancellationToken);
            roles = await db.Participants.AsNoTracking().Where(p => p.TicketId == ticketId)
                .ToDictionaryAsync(p => p.Email, p => p.Role.ToString(), StringComparer.Ordinal, cancellationToken);
            if (!string.IsNullOrEmpty(customer))
                roles[customer] = nameof(ParticipantRole.Customer);
        }
        return messages.Select(m => ToView(m) with
        {
            Author = m.AuthorUserId is { } author
                ? names.GetValueOrDefault(author) ?? new MessageAuthor(author, "A former user")
                : null,
            FromRole = m.Direction == MessageDirection.Inbound ? roles.GetValueOrDefault(m.FromAddress) : null,
        }).ToList();
    }

    /// <summary>An attachment with its content; null when unknown.</summary>
    /// <remarks>
    /// The content is read into memory whole (at most the message size limit, 25 MB by default), as the raw message
    /// is: simple, and the same on every provider; streaming the blob would save that memory per download.
    /// </remarks>
    public async Task<DownloadContent?> GetAttachmentAsync(long id, CancellationToken cancellationToken)
    {
        var found = await db.Attachments.AsNoTracking().Where(a => a.Id == id)
            .Join(db.AttachmentContents, a => a.Sha256, c => c.Sha256, (a, c) => new { a.FileName, a.ContentType, c.Bytes })
            .FirstOrDefaultAsync(cancellationToken);
        return found is null ? null : new DownloadContent(found.FileName, found.ContentType, found.Bytes);
    }

    /// <summary>A message's exact bytes as <c>message-{id}.eml</c>; null when unknown.</summary>
    public async Task<DownloadContent?> GetRawAsync(long messageId, CancellationToken cancellationToken)
    {
        var raw = await db.RawMessages.AsNoTracking().FirstOrDefaultAsync(r => r.MessageId == messageId, cancellationToken);
        return raw is null ? null : new DownloadContent($"message-{messageId}.eml", "message/rfc822", raw.Bytes);
    }

    private static TicketMessageView ToView(TicketMessage m) => new(
        m.Id, m.Direction.ToString(), m.FromAddress, m.FromName, m.To, m.Cc, m.Subject, m.MessageIdHeader, m.InReplyTo, m.Date,
        m.ReceivedAt, m.Text, m.Html, m.HasRemoteImages, FlagNames(m.Flags), m.ParseError, m.Delivery?.ToString(), m.DeliveryDetail,
        m.RawSize,
        m.Attachments.OrderBy(a => a.Id).Select(a => new AttachmentInfo(a.Id, a.FileName, a.ContentType, a.Size, a.Sha256, a.ContentId, a.IsInline)).ToList())
    {
        BouncedRecipient = m.BouncedRecipient,
    };

    /// <summary>The set flags by name, e.g. ["AutoReply", "Loop"].</summary>
    public static IReadOnlyList<string> FlagNames(MessageFlags flags) =>
        Enum.GetValues<MessageFlags>().Where(f => f != MessageFlags.None && flags.HasFlag(f)).Select(f => f.ToString()).ToList();
}
