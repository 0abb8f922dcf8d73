using ConnectiveOne.Core.Persistence;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace ConnectiveOne.Core.Accounts;

/// <summary>
/// Whether a session still stands: a browser session while its security stamp is the user's current one (a new
/// password, "sign out everywhere", a role change and deactivation all change it), a token session while the token
/// is not revoked and its owner active.
/// </summary>
public sealed class SessionCheck(AppDbContext db)
{
    /// <summary>The claim Identity puts the security stamp in, in the cookie and so in each circuit's principal.</summary>
    public static readonly string StampClaim = new ClaimsIdentityOptions().SecurityStampClaimType;

    public async Task<bool> IsCurrentAsync(string userId, string? stamp, CancellationToken ct = default) =>
        stamp is not null && await db.Users.AnyAsync(u => u.Id == userId && u.IsActive && u.SecurityStamp == stamp, ct);

    /// <summary>The current stamp of each of these users that is active.</summary>
    public async Task<IReadOnlyDictionary<string, string?>> ActiveStampsAsync(IReadOnlyCollection<string> userIds, CancellationToken ct = default) =>
        await db.Users.Where(u => userIds.Contains(u.Id) && u.IsActive).Select(u => new { u.Id, u.SecurityStamp })
            .ToDictionaryAsync(u => u.Id, u => u.SecurityStamp, ct);

    /// <summary>Those of these tokens that still work (not revoked, owner active).</summary>
    public async Task<IReadOnlySet<Guid>> WorkingTokensAsync(IReadOnlyCollection<Guid> tokenIds, CancellationToken ct = default) =>
        (await db.ApiTokens.AsNoTracking().Where(t => tokenIds.Contains(t.Id) && t.RevokedAt == null && t.User!.IsActive)
            .Select(t => t.Id).ToListAsync(ct)).ToHashSet();
}
