using System.Text.Json;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Outbound;
using ConnectiveOne.Core.Persistence;
using Microsoft.EntityFrameworkCore;

namespace ConnectiveOne.Core.Tickets;

/// <summary>What a composer holds: the text, the recipients when changed from the defaults (null = defaults), note mode.</summary>
public sealed record DraftContent(string Text, IReadOnlyList<string>? To = null, IReadOnlyList<string>? Cc = null,
    IReadOnlyList<string>? Bcc = null, bool Note = false);

/// <summary>A saved draft (API.md "Workflow": Draft).</summary>
public sealed record DraftView(long TicketId, string Text, IReadOnlyList<string>? To, IReadOnlyList<string>? Cc,
    IReadOnlyList<string>? Bcc, bool Note, DateTimeOffset UpdatedAt)
{
    /// <summary>The page that saved it (see <see cref="TicketDraft.Origin"/>); not part of the API shape.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Guid Origin { get; init; }
}

/// <summary>Someone with a draft on a ticket, as other operators see it ("Ann has a draft").</summary>
public sealed record DraftAuthor(string UserId, string Name);

/// <summary>Why a draft could not be saved: <see cref="TooLarge"/> (413) or bad input / no such ticket (400 / 404).</summary>
public sealed record DraftSaveResult(DraftView? Draft, string? Error, bool TooLarge = false, bool TicketMissing = false);

/// <summary>
/// Drafts per user per ticket. Every change publishes <see cref="ChangeKind.DraftChanged"/> for the ticket with the
/// user in <see cref="ChangeEvent.ForUserId"/>: that user's other pages take the text over, others' pages show who has
/// a draft. The text is the operator's unsent words: it is never logged.
/// </summary>
public sealed class TicketDrafts(AppDbContext db, ChangeNotifier notifier, TimeProvider clock)
{
    /// <summary>The longest draft text, in characters (a long reply is a few thousand).</summary>
    public const int MaxTextLength = 100_000;

    /// <summary>The event summaries: whether the user has a draft on the ticket after the change.</summary>
    public const string Saved = "Draft saved", Discarded = "Draft discarded";

    public async Task<DraftView?> GetAsync(string userId, long ticketId, CancellationToken ct = default)
    {
        var draft = await db.Set<TicketDraft>().AsNoTracking().FirstOrDefaultAsync(d => d.UserId == userId && d.TicketId == ticketId, ct);
        return draft is null ? null : View(draft);
    }

    /// <summary>Why this content cannot be kept, in words; null when it can.</summary>
    public static string? Problem(DraftContent content)
    {
        if (content.Text.Length > MaxTextLength)
            return string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"A draft can hold up to {MaxTextLength:N0} characters; this one has {content.Text.Length:N0}. Shorten it or send part of it.");
        foreach (var (label, list) in new[] { ("To", content.To), ("Cc", content.Cc), ("Bcc", content.Bcc) })
        {
            if (list is null)
                continue;
            if (list.Count > ReplyService.MaxRecipients)
                return $"A draft's {label} can name at most {ReplyService.MaxRecipients} addresses; this one names {list.Count}.";
            if (list.Any(a => a is null || a.Length > 320))
                return $"An address in the draft's {label} is longer than an email address can be.";
        }
        return null;
    }

    /// <summary>Saves (creates or replaces) the user's draft on the ticket, written by page <paramref name="origin"/>.</summary>
    public async Task<DraftSaveResult> SaveAsync(string userId, long ticketId, DraftContent content, Guid origin, CancellationToken ct = default)
    {
        if (Problem(content) is { } problem)
            return new DraftSaveResult(null, problem, TooLarge: content.Text.Length > MaxTextLength);
        if (!await db.Tickets.AnyAsync(t => t.Id == ticketId, ct))
            return new DraftSaveResult(null, $"There is no ticket #{ticketId}.", TicketMissing: true);
        var now = clock.GetUtcNow();
        var (to, cc, bcc) = (Json(content.To), Json(content.Cc), Json(content.Bcc));
        var drafts = db.Set<TicketDraft>();
        // Update first, insert when there is none; two pages of the same user saving at once: the second insert updates.
        for (var attempt = 0; ; attempt++)
        {
            var updated = await drafts.Where(d => d.UserId == userId && d.TicketId == ticketId).ExecuteUpdateAsync(d => d
                .SetProperty(x => x.Text, content.Text).SetProperty(x => x.To, to).SetProperty(x => x.Cc, cc).SetProperty(x => x.Bcc, bcc)
                .SetProperty(x => x.Note, content.Note).SetProperty(x => x.UpdatedAt, now).SetProperty(x => x.Origin, origin), ct);
            if (updated > 0)
                break;
            drafts.Add(new TicketDraft
            {
                UserId = userId, TicketId = ticketId, Text = content.Text, To = to, Cc = cc, Bcc = bcc, Note = content.Note,
                UpdatedAt = now, Origin = origin,
            });
            try
            {
                await db.SaveChangesAsync(ct);
                break;
            }
            catch (DbUpdateException e) when (e.IsUniqueViolation() && attempt == 0)
            {
                db.ChangeTracker.Clear();
            }
        }
        Announce(userId, ticketId, Saved);
        return new DraftSaveResult(new DraftView(ticketId, content.Text, content.To, content.Cc, content.Bcc, content.Note, now) { Origin = origin }, null);
    }

    /// <summary>Deletes the user's draft on the ticket (sent or discarded); false when there was none.</summary>
    public async Task<bool> DeleteAsync(string userId, long ticketId, CancellationToken ct = default)
    {
        var deleted = await db.Set<TicketDraft>().Where(d => d.UserId == userId && d.TicketId == ticketId).ExecuteDeleteAsync(ct);
        if (deleted > 0)
            Announce(userId, ticketId, Discarded);
        return deleted > 0;
    }

    /// <summary>Who has a draft on the ticket, by name, except <paramref name="exceptUserId"/> (the one asking).</summary>
    public async Task<IReadOnlyList<DraftAuthor>> AuthorsAsync(long ticketId, string? exceptUserId, CancellationToken ct = default)
    {
        var authors = await db.Set<TicketDraft>().AsNoTracking()
            .Where(d => d.TicketId == ticketId && d.UserId != exceptUserId)
            .Join(db.Users, d => d.UserId, u => u.Id, (d, u) => new { u.Id, u.DisplayName, u.Email, u.UserName })
            .ToListAsync(ct);
        return authors.Select(a => new DraftAuthor(a.Id, string.IsNullOrWhiteSpace(a.DisplayName) ? a.Email ?? a.UserName ?? a.Id : a.DisplayName))
            .OrderBy(a => a.Name, StringComparer.OrdinalIgnoreCase).ToList();
    }

    /// <summary>Which of these tickets the user has a draft on (the ticket list's "Draft" mark).</summary>
    public async Task<IReadOnlySet<long>> TicketsWithDraftsAsync(string userId, IReadOnlyCollection<long> ticketIds, CancellationToken ct = default) =>
        (await db.Set<TicketDraft>().AsNoTracking().Where(d => d.UserId == userId && ticketIds.Contains(d.TicketId))
            .Select(d => d.TicketId).ToListAsync(ct)).ToHashSet();

    private void Announce(string userId, long ticketId, string what) =>
        notifier.Publish(new ChangeEvent(ChangeKind.DraftChanged, ticketId.ToString(System.Globalization.CultureInfo.InvariantCulture), what)
        {
            ForUserId = userId,
        });

    private static string? Json(IReadOnlyList<string>? addresses) => addresses is null ? null : JsonSerializer.Serialize(addresses);

    private static IReadOnlyList<string>? List(string? json) => json is null ? null : JsonSerializer.Deserialize<List<string>>(json);

    private static DraftView View(TicketDraft d) =>
        new(d.TicketId, d.Text, List(d.To), List(d.Cc), List(d.Bcc), d.Note, d.UpdatedAt) { Origin = d.Origin };
}
