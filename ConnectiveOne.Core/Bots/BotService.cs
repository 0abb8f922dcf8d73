using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Core.Bots;

/// <summary>A bot as the API shows it.</summary>
public sealed record BotInfo(Guid Id, string Name, Guid? EmailAddressId);

/// <summary>An address as the Email channel's dropdown offers it: whether a bot may take it, why not, and who has it.</summary>
public sealed record AddressChoice(Guid Id, string Email, string TechnicalAddress, bool Verified, string? NotVerifiedReason,
    Guid? BotId, string? BotName);

public enum BotError { None, Invalid, NotFound, Conflict, NotVerified }

/// <summary>The bot after a change, or what was wrong in words.</summary>
public sealed record BotResult(BotInfo? Bot, BotError Error, string? Message)
{
    public static BotResult Ok(Bot bot) => new(ToInfo(bot), BotError.None, null);
    public static BotResult Fail(BotError error, string message) => new(null, error, message);
    internal static BotInfo ToInfo(Bot bot) => new(bot.Id, bot.Name, bot.EmailAddressId);
}

/// <summary>
/// Bots and their Email channel. One address serves one bot: the unique index on <see cref="Bot.EmailAddressId"/>
/// decides between concurrent requests, and the loser gets the same answer as a sequential caller.
/// </summary>
public sealed class BotService(AppDbContext db, ChangeNotifier notifier)
{
    public const int MaxNameLength = 100;

    // Sorted here, not by the database: SQLite and PostgreSQL collate text differently (byte order vs the server's locale).
    public async Task<IReadOnlyList<BotInfo>> ListAsync(CancellationToken ct = default) =>
        (await db.Bots.AsNoTracking().ToListAsync(ct)).OrderBy(b => b.Name, StringComparer.OrdinalIgnoreCase).ThenBy(b => b.Name, StringComparer.Ordinal)
        .Select(BotResult.ToInfo).ToList();

    public async Task<BotInfo?> FindAsync(Guid id, CancellationToken ct = default) =>
        await db.Bots.AsNoTracking().Where(b => b.Id == id).Select(b => new BotInfo(b.Id, b.Name, b.EmailAddressId))
            .FirstOrDefaultAsync(ct);

    public async Task<BotResult> CreateAsync(string? name, CancellationToken ct = default)
    {
        var trimmed = name?.Trim() ?? "";
        if (await NameProblemAsync(trimmed, null, ct) is { } problem)
            return problem;
        var bot = new Bot { Name = trimmed };
        db.Bots.Add(bot);
        await db.SaveChangesAsync(ct);
        return BotResult.Ok(bot);
    }

    /// <summary>Gives the bot another name (unique like a new one). The tickets and the Email channel stay.</summary>
    public async Task<BotResult> RenameAsync(Guid botId, string? name, CancellationToken ct = default)
    {
        var trimmed = name?.Trim() ?? "";
        var bot = await db.Bots.FirstOrDefaultAsync(b => b.Id == botId, ct);
        if (bot is null)
            return BotResult.Fail(BotError.NotFound, "There is no bot with that id.");
        if (await NameProblemAsync(trimmed, botId, ct) is { } problem)
            return problem;
        bot.Name = trimmed;
        await db.SaveChangesAsync(ct);
        return BotResult.Ok(bot);
    }

    /// <summary>How many tickets the bot has (the removal dialog says what happens to them).</summary>
    public Task<int> CountTicketsAsync(Guid botId, CancellationToken ct = default) =>
        db.Tickets.CountAsync(t => t.BotId == botId, ct);

    /// <summary>
    /// Removes the bot. Its tickets are kept without a bot, like mail that arrived before any binding: they join the
    /// next bot that takes their address (<see cref="BindEmailAsync"/>). Its address is free at once. False when there
    /// was no such bot.
    /// </summary>
    public async Task<bool> DeleteAsync(Guid botId, CancellationToken ct = default)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.Tickets.Where(t => t.BotId == botId).ExecuteUpdateAsync(s => s.SetProperty(t => t.BotId, (Guid?)null), ct);
        var removed = await db.Bots.Where(b => b.Id == botId).ExecuteDeleteAsync(ct);
        await transaction.CommitAsync(ct);
        return removed > 0;
    }

    private async Task<BotResult?> NameProblemAsync(string trimmed, Guid? renaming, CancellationToken ct)
    {
        if (trimmed.Length == 0)
            return BotResult.Fail(BotError.Invalid, "A bot needs a name.");
        if (trimmed.Length > MaxNameLength)
            return BotResult.Fail(BotError.Invalid, $"A bot's name can be at most {MaxNameLength} characters.");
        var all = await db.Bots.AsNoTracking().Where(b => b.Id != renaming).Select(b => b.Name).ToListAsync(ct);
        // Names identify bots in messages ("used by bot X"), so two bots may not share one.
        return all.Any(n => string.Equals(n, trimmed, StringComparison.OrdinalIgnoreCase))
            ? BotResult.Fail(BotError.Conflict, $"A bot named {trimmed} already exists.")
            : null;
    }

    /// <summary>
    /// Turns the bot's Email channel on with <paramref name="addressId"/>. Tickets of that address that no bot had yet
    /// (mail that arrived before any binding) become the bot's, in the same transaction.
    /// </summary>
    public async Task<BotResult> BindEmailAsync(Guid botId, Guid addressId, CancellationToken ct = default)
    {
        var bot = await db.Bots.FirstOrDefaultAsync(b => b.Id == botId, ct);
        if (bot is null)
            return BotResult.Fail(BotError.NotFound, "There is no bot with that id.");
        var address = await db.Addresses.AsNoTracking().FirstOrDefaultAsync(a => a.Id == addressId, ct);
        if (address is null)
            return BotResult.Fail(BotError.NotFound, "There is no address with that id.");
        if (await HolderConflictAsync(botId, address, ct) is { } conflict)
            return conflict;
        var domainStatus = await db.Domains.AsNoTracking().Where(d => d.Name == address.Domain).Select(d => (DomainStatus?)d.Status)
            .FirstOrDefaultAsync(ct);
        if (NotVerifiedReason(address, domainStatus) is { } reason)
            return BotResult.Fail(BotError.NotVerified, reason);

        List<long> moved;
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            bot.EmailAddressId = addressId;
            await db.SaveChangesAsync(ct);
            moved = await db.Tickets.Where(t => t.AddressId == addressId && t.BotId == null).Select(t => t.Id).ToListAsync(ct);
            await db.Tickets.Where(t => t.AddressId == addressId && t.BotId == null)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.BotId, botId), ct);
            await transaction.CommitAsync(ct);
        }
        catch (DbUpdateException e) when (e.IsUniqueViolation())
        {
            // Another request bound the address between our check and our write; the unique index refused ours.
            db.ChangeTracker.Clear();
            return await HolderConflictAsync(botId, address, ct)
                   ?? BotResult.Fail(BotError.Conflict, $"{address.Email} was just taken by another bot; reload and try again.");
        }

        foreach (var ticketId in moved)
            notifier.Publish(new ChangeEvent(ChangeKind.TicketUpdated, ticketId.ToString(), $"#{ticketId} now belongs to {bot.Name}"));
        return BotResult.Ok(bot);
    }

    /// <summary>Turns the bot's Email channel off; its tickets stay with it. Null when there is no such bot.</summary>
    public async Task<BotInfo?> UnbindEmailAsync(Guid botId, CancellationToken ct = default)
    {
        var bot = await db.Bots.FirstOrDefaultAsync(b => b.Id == botId, ct);
        if (bot is null)
            return null;
        bot.EmailAddressId = null;
        await db.SaveChangesAsync(ct);
        return BotResult.ToInfo(bot);
    }

    /// <summary>Every address with whether a bot may take it (and why not) and which bot has it.</summary>
    public async Task<IReadOnlyList<AddressChoice>> ListAddressChoicesAsync(CancellationToken ct = default)
    {
        var rows = await (from a in db.Addresses.AsNoTracking()
                          join d in db.Domains.AsNoTracking() on a.Domain equals d.Name into domains
                          from d in domains.DefaultIfEmpty()
                          join b in db.Bots.AsNoTracking() on (Guid?)a.Id equals b.EmailAddressId into bots
                          from b in bots.DefaultIfEmpty()
                          orderby a.Email
                          select new { Address = a, DomainStatus = d == null ? (DomainStatus?)null : d.Status, BotId = b == null ? (Guid?)null : b.Id, BotName = b == null ? null : b.Name })
            .ToListAsync(ct);
        return rows.Select(r =>
        {
            var reason = NotVerifiedReason(r.Address, r.DomainStatus);
            return new AddressChoice(r.Address.Id, r.Address.Email, r.Address.TechnicalAddress, reason is null, reason, r.BotId, r.BotName);
        }).ToList();
    }

    /// <summary>
    /// Null when a bot may take the address: its domain is Verified (mail goes out signed from it) or its forwarding
    /// is Confirmed by a forwarding test (its mail provably reaches us; replies go out from the technical address).
    /// </summary>
    public static string? NotVerifiedReason(CorporateAddress address, DomainStatus? domainStatus) =>
        domainStatus == DomainStatus.Verified || address.Forwarding == ForwardingStatus.Confirmed
            ? null
            : $"{address.Email} is not verified yet: verify the DNS records of {address.Domain} or confirm its forwarding with a forwarding test.";

    /// <summary>The message for an address held by another bot, naming it and saying how to free the address.</summary>
    public static string HeldByMessage(string email, string botName) =>
        $"{email} is used by the bot {botName}. Remove the email channel from bot {botName}, then choose it here.";

    private async Task<BotResult?> HolderConflictAsync(Guid botId, CorporateAddress address, CancellationToken ct)
    {
        var holder = await db.Bots.AsNoTracking().Where(b => b.EmailAddressId == address.Id && b.Id != botId)
            .Select(b => b.Name).FirstOrDefaultAsync(ct);
        return holder is null ? null : BotResult.Fail(BotError.Conflict, HeldByMessage(address.Email, holder));
    }
}

public static class BotServiceRegistration
{
    public static IServiceCollection AddBots(this IServiceCollection services) => services.AddScoped<BotService>();
}
