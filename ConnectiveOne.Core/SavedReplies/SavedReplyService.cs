using ConnectiveOne.Core.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace ConnectiveOne.Core.SavedReplies;

/// <summary>A saved reply as the API and the pages show it.</summary>
public sealed record SavedReplyView(long Id, string Title, string Text, Guid? BotId, bool Shared, string OwnerId, int UseCount);

/// <summary>What a create or update asks for.</summary>
public sealed record SavedReplyInput(string? Title, string? Text, Guid? BotId, bool Shared);

/// <summary>The reply after a change (or null after a delete), or an HTTP-like status with what was wrong in words.</summary>
public sealed record SavedReplyResult(SavedReplyView? Reply, int Status, string? Error)
{
    public bool Ok => Error is null;
    public static SavedReplyResult Done(SavedReplyView? reply, int status = 200) => new(reply, status, null);
    public static SavedReplyResult Fail(int status, string error) => new(null, status, error);
}

/// <summary>The one who acts: their user id and whether they are an admin (who alone manages shared replies).</summary>
public sealed record SavedReplyActor(string UserId, bool IsAdmin);

/// <summary>
/// Saved replies: listing what a user may see, creating, changing and deleting them by the rules of
/// <see cref="SavedReplyRules"/>, and using one in a reply (variables filled, use counted).
/// </summary>
public sealed class SavedReplyService(AppDbContext db, TimeProvider clock, ILogger<SavedReplyService> logger)
{
    /// <summary>The shared replies and the user's own personal ones matching <paramref name="query"/>: title matches first, then the most used.</summary>
    public async Task<IReadOnlyList<SavedReplyView>> ListAsync(string userId, string? query = null, CancellationToken ct = default) =>
        Ranked(await db.SavedReplies.AsNoTracking().Where(r => r.Shared || r.OwnerId == userId).ToListAsync(ct), query);

    /// <summary>The replies offered in the composer of <paramref name="ticketId"/>: its bot's shared ones, the all-bots ones and the user's own.</summary>
    public async Task<IReadOnlyList<SavedReplyView>> OfferedAsync(long ticketId, string userId, string? query, CancellationToken ct = default)
    {
        var ticket = await db.Tickets.AsNoTracking().Where(t => t.Id == ticketId).Select(t => new { t.BotId }).FirstOrDefaultAsync(ct);
        if (ticket is null)
            return [];
        var visible = await db.SavedReplies.AsNoTracking().Where(r => r.Shared || r.OwnerId == userId).ToListAsync(ct);
        return Ranked(visible.Where(r => SavedReplyRules.Offered(r, userId, ticket.BotId)), query);
    }

    // Sorted here, not by the database: SQLite and PostgreSQL collate text differently.
    private static List<SavedReplyView> Ranked(IEnumerable<SavedReply> replies, string? query)
    {
        var q = query?.Trim() ?? "";
        return replies
            .Where(r => SavedReplyRules.Matches(r, q))
            .OrderBy(r => q.Length == 0 || r.Title.StartsWith(q, StringComparison.OrdinalIgnoreCase) ? 0 : r.Title.Contains(q, StringComparison.OrdinalIgnoreCase) ? 1 : 2)
            .ThenByDescending(r => r.UseCount)
            .ThenBy(r => r.Title, StringComparer.OrdinalIgnoreCase)
            .ThenBy(r => r.Id)
            .Select(View).ToList();
    }

    public async Task<SavedReplyResult> CreateAsync(SavedReplyInput input, SavedReplyActor actor, CancellationToken ct = default)
    {
        if (await RefusedAsync(input, actor, ct) is { } refused)
            return refused;
        var now = clock.GetUtcNow();
        var reply = new SavedReply
        {
            Title = input.Title!.Trim(), Text = input.Text!, BotId = input.BotId, Shared = input.Shared, OwnerId = actor.UserId,
            CreatedAt = now, UpdatedAt = now,
        };
        db.SavedReplies.Add(reply);
        await db.SaveChangesAsync(ct);
        logger.LogInformation("Saved reply {SavedReplyId} created by {UserId} (shared {Shared}, bot {BotId})", reply.Id, actor.UserId, reply.Shared, reply.BotId);
        return SavedReplyResult.Done(View(reply), 201);
    }

    public async Task<SavedReplyResult> UpdateAsync(long id, SavedReplyInput input, SavedReplyActor actor, CancellationToken ct = default)
    {
        var (reply, problem) = await FindForChangeAsync(id, actor, ct);
        if (reply is null)
            return problem!;
        if (await RefusedAsync(input, actor, ct) is { } refused)
            return refused;
        reply.Title = input.Title!.Trim();
        reply.Text = input.Text!;
        reply.BotId = input.BotId;
        reply.Shared = input.Shared;
        reply.UpdatedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return SavedReplyResult.Done(View(reply));
    }

    public async Task<SavedReplyResult> DeleteAsync(long id, SavedReplyActor actor, CancellationToken ct = default)
    {
        var (reply, problem) = await FindForChangeAsync(id, actor, ct);
        if (reply is null)
            return problem!;
        db.SavedReplies.Remove(reply);
        await db.SaveChangesAsync(ct);
        logger.LogInformation("Saved reply {SavedReplyId} deleted by {UserId}", id, actor.UserId);
        return SavedReplyResult.Done(null, 204);
    }

    /// <summary>
    /// The text of saved reply <paramref name="id"/> with its variables filled for <paramref name="ticketId"/> and
    /// <paramref name="userId"/>, counting the use; null when the reply is not offered on that ticket to that user.
    /// </summary>
    public async Task<string?> UseAsync(long id, long ticketId, string userId, CancellationToken ct = default)
    {
        var reply = await db.SavedReplies.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, ct);
        var ticket = await db.Tickets.AsNoTracking().FirstOrDefaultAsync(t => t.Id == ticketId, ct);
        if (reply is null || ticket is null || !SavedReplyRules.Offered(reply, userId, ticket.BotId))
            return null;
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, ct);
        var address = await db.Addresses.AsNoTracking().FirstOrDefaultAsync(a => a.Id == ticket.AddressId, ct);
        // Counted in the database, so two operators inserting it at once both count.
        await db.SavedReplies.Where(r => r.Id == id).ExecuteUpdateAsync(r => r.SetProperty(x => x.UseCount, x => x.UseCount + 1), ct);
        return SavedReplyVariables.Fill(reply.Text, new SavedReplyValues(ticket.CustomerName, ticket.CustomerEmail, ticket.Id, user?.Name,
            string.IsNullOrWhiteSpace(address?.DisplayName) ? address?.Email : address.DisplayName));
    }

    // Shared ones are the admins'; to anyone else, another user's personal reply does not exist.
    private async Task<(SavedReply?, SavedReplyResult?)> FindForChangeAsync(long id, SavedReplyActor actor, CancellationToken ct)
    {
        var reply = await db.SavedReplies.FirstOrDefaultAsync(r => r.Id == id, ct);
        if (reply is null || !SavedReplyRules.Sees(reply, actor.UserId))
            return (null, SavedReplyResult.Fail(404, $"There is no saved reply {id} (or it is someone else's personal one)."));
        if (reply.Shared && !actor.IsAdmin)
            return (null, SavedReplyResult.Fail(403, "Only admins can change or delete shared saved replies."));
        return (reply, null);
    }

    private async Task<SavedReplyResult?> RefusedAsync(SavedReplyInput input, SavedReplyActor actor, CancellationToken ct)
    {
        if (input.Shared && !actor.IsAdmin)
            return SavedReplyResult.Fail(403, "Only admins can create shared saved replies; leave \"shared\" false for a personal one.");
        if (SavedReplyRules.Problem(input.Title, input.Text) is { } problem)
            return SavedReplyResult.Fail(400, problem);
        if (input.BotId is { } botId && !await db.Bots.AnyAsync(b => b.Id == botId, ct))
            return SavedReplyResult.Fail(400, $"There is no bot {botId}; leave \"botId\" out for a reply offered on every bot.");
        return null;
    }

    public static SavedReplyView View(SavedReply r) => new(r.Id, r.Title, r.Text, r.BotId, r.Shared, r.OwnerId, r.UseCount);
}
