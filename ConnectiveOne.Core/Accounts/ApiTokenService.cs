using System.Security.Cryptography;
using System.Text;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Persistence;
using Microsoft.EntityFrameworkCore;

namespace ConnectiveOne.Core.Accounts;

/// <summary>A token as its owner sees it; the secret is never part of it.</summary>
public sealed record ApiTokenInfo(Guid Id, string Name, string Prefix, DateTimeOffset CreatedAt,
    DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt);

/// <summary>The user a valid token stands for.</summary>
public sealed record TokenOwner(AppUser User, Guid TokenId);

/// <summary>
/// Creates, checks and revokes API bearer tokens. Tokens are random, stored only as SHA-256. A revocation is announced
/// as <see cref="ChangeKind.UserChanged"/>, so live hub connections made with the token end too.
/// </summary>
public sealed class ApiTokenService(AppDbContext db, TimeProvider clock, ChangeNotifier notifier)
{
    private const string TokenPrefix = "c1_";

    /// <summary>Creates a token for the user and returns the secret, which is not stored anywhere.</summary>
    public async Task<(string Token, ApiTokenInfo Info)> CreateAsync(string userId, string name, CancellationToken ct = default)
    {
        var secret = TokenPrefix + Base32.Encode(RandomNumberGenerator.GetBytes(25)).ToLowerInvariant();
        var token = await StoreAsync(userId, name, secret, ct);
        return (secret, token);
    }

    /// <summary>Stores a secret chosen elsewhere (the bootstrap token from configuration).</summary>
    public async Task<ApiTokenInfo> StoreAsync(string userId, string name, string secret, CancellationToken ct = default)
    {
        var token = new ApiToken
        {
            UserId = userId,
            Name = string.IsNullOrWhiteSpace(name) ? "API token" : name.Trim(),
            Hash = Hash(secret),
            Prefix = secret[..Math.Min(8, secret.Length)],
            CreatedAt = clock.GetUtcNow(),
        };
        db.ApiTokens.Add(token);
        await db.SaveChangesAsync(ct);
        return ToInfo(token);
    }

    public Task<bool> ExistsAsync(string secret, CancellationToken ct = default)
    {
        var hash = Hash(secret);
        return db.ApiTokens.AnyAsync(t => t.Hash == hash, ct);
    }

    /// <summary>The active owner of a valid, unrevoked token, or null.</summary>
    public async Task<TokenOwner?> ValidateAsync(string secret, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(secret) || secret.Length > 200)
            return null;
        var hash = Hash(secret);
        var token = await db.ApiTokens.Include(t => t.User)
            .FirstOrDefaultAsync(t => t.Hash == hash && t.RevokedAt == null, ct);
        if (token?.User is not { IsActive: true } user)
            return null;

        // Record use at most every few minutes, so reads do not turn into a write per request.
        var now = clock.GetUtcNow();
        if (token.LastUsedAt is null || now - token.LastUsedAt > TimeSpan.FromMinutes(5))
        {
            token.LastUsedAt = now;
            await db.SaveChangesAsync(ct);
        }
        return new TokenOwner(user, token.Id);
    }

    public async Task<IReadOnlyList<ApiTokenInfo>> ListAsync(string userId, CancellationToken ct = default)
    {
        var tokens = await db.ApiTokens.AsNoTracking().Where(t => t.UserId == userId)
            .OrderByDescending(t => t.CreatedAt).ToListAsync(ct);
        return tokens.Select(ToInfo).ToList();
    }

    /// <summary>Revokes one of the user's own tokens; false when the user has no such token.</summary>
    public async Task<bool> RevokeAsync(string userId, Guid tokenId, CancellationToken ct = default)
    {
        var token = await db.ApiTokens.FirstOrDefaultAsync(t => t.Id == tokenId && t.UserId == userId, ct);
        if (token is null)
            return false;
        token.RevokedAt ??= clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        notifier.Publish(new ChangeEvent(ChangeKind.UserChanged, userId));
        return true;
    }

    /// <summary>Revokes every active token of the user (a password change); returns how many.</summary>
    public async Task<int> RevokeAllAsync(string userId, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        var revoked = await db.ApiTokens.Where(t => t.UserId == userId && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), ct);
        if (revoked > 0)
            notifier.Publish(new ChangeEvent(ChangeKind.UserChanged, userId));
        return revoked;
    }

    internal static string Hash(string secret) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private static ApiTokenInfo ToInfo(ApiToken t) => new(t.Id, t.Name, t.Prefix, t.CreatedAt, t.LastUsedAt, t.RevokedAt);
}
