using System.Collections.Concurrent;
using ConnectiveOne.Core.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Core.Inbound.Intake;

/// <summary>One of our addresses as intake sees it.</summary>
public sealed record InboundAddress(Guid Id, string Email, string TechnicalAddress);

/// <summary>
/// Answers "is this a technical address of ours?" for RCPT TO and the webhooks. Hits are cached briefly (every
/// message of a busy address would otherwise cost a query); misses are not, so a new address works at once.
/// </summary>
public sealed class TechnicalAddressLookup(IServiceScopeFactory scopes, TimeProvider clock)
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);

    // Compiled once: a miss runs it per RCPT, and EF's per-call query cache lookup was a visible share of a session's CPU.
    private static readonly Func<AppDbContext, string, CancellationToken, Task<InboundAddress?>> ByTechnicalAddress = EF.CompileAsyncQuery(
        (AppDbContext db, string key, CancellationToken _) => db.Addresses.AsNoTracking()
            .Where(a => a.TechnicalAddress == key)
            .Select(a => new InboundAddress(a.Id, a.Email, a.TechnicalAddress))
            .FirstOrDefault());
    private readonly ConcurrentDictionary<string, (InboundAddress Address, DateTimeOffset Until)> _cache = new(StringComparer.Ordinal);

    /// <summary>The address, or null when <paramref name="technicalAddress"/> is not one of ours or not a plain address.</summary>
    public async ValueTask<InboundAddress?> FindAsync(string technicalAddress, CancellationToken cancellationToken)
    {
        if (!IsPlainAddress(technicalAddress))
            return null;
        var key = technicalAddress.Trim().ToLowerInvariant();
        var now = clock.GetUtcNow();
        if (_cache.TryGetValue(key, out var hit) && hit.Until > now)
            return hit.Address;

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var found = await ByTechnicalAddress(db, key, cancellationToken);
        if (found is null)
            _cache.TryRemove(key, out _);
        else
            _cache[key] = (found, now + CacheFor);
        return found;
    }

    /// <summary>
    /// <c>local@domain</c> and nothing cleverer: no source routes, <c>%</c> hacks, bang paths, quoted or bare
    /// local parts, so no address can make us deliver anywhere but to one of our own addresses.
    /// </summary>
    public static bool IsPlainAddress(string? address)
    {
        if (string.IsNullOrWhiteSpace(address) || address.Length > 254)
            return false;
        var a = address.Trim();
        var at = a.IndexOf('@');
        if (at <= 0 || at != a.LastIndexOf('@') || at == a.Length - 1)
            return false;
        return !a.Any(c => c is '%' or '!' or '"' or ':' or ',' or ';' or '<' or '>' or '(' or ')' or '[' or ']' or '\\' || char.IsWhiteSpace(c) || char.IsControl(c));
    }
}
