using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Logging;

namespace ConnectiveOne.Core.Accounts;

/// <summary>
/// Checks an email and password for the sign-in form and <c>POST /api/v1/tokens</c>. An unknown email, a deactivated
/// account, a pair in its back-off wait and a wrong password all get the same answer after the same work (one
/// database look-up, one password hash), so neither the words nor the time tell which accounts exist.
/// </summary>
public sealed class SignInGuard(UserManager<AppUser> users, SignInBackoff backoff, ILogger<SignInGuard> logger)
{
    /// <summary>The one answer to every refused sign-in.</summary>
    public const string Refused = "The email or password is wrong. After several wrong tries, wait a few minutes before trying again.";

    /// <summary>Hashed once so an unknown email costs the same hash as a known one.</summary>
    private static string? _decoyHash;

    /// <summary>The active user these credentials belong to, or null (answer <see cref="Refused"/>).</summary>
    public async Task<AppUser?> CheckAsync(string? email, string? password, string? clientAddress)
    {
        var account = email?.Trim() ?? "";
        var user = account.Length == 0 ? null : await users.FindByEmailAsync(account);
        return Decide(account, clientAddress, user, password) ? user : null;
    }

    /// <summary>The signed-in user's current password (changing it): the same count and wait as signing in.</summary>
    public bool CheckCurrentPassword(AppUser user, string? password, string? clientAddress) =>
        Decide(user.Email ?? user.Id, clientAddress, user, password);

    private bool Decide(string account, string? clientAddress, AppUser? user, string? password)
    {
        // Every branch pays for the hash before looking at anything else.
        var passwordRight = VerifyPassword(user, password ?? "");
        var lockedOut = backoff.IsLockedOut(account, clientAddress);
        if (passwordRight && user is { IsActive: true } && !lockedOut)
        {
            backoff.Reset(account, clientAddress);
            return true;
        }
        if (!lockedOut)
            backoff.RecordFailure(account, clientAddress);
        logger.LogInformation("Sign-in refused from {RemoteAddress} for user {UserId}", clientAddress, user?.Id ?? "(no such user)");
        return false;
    }

    private bool VerifyPassword(AppUser? user, string password)
    {
        var hash = user?.PasswordHash;
        if (hash is null)
        {
            hash = _decoyHash ??= users.PasswordHasher.HashPassword(new AppUser(), Guid.NewGuid().ToString());
            users.PasswordHasher.VerifyHashedPassword(user ?? new AppUser(), hash, password);
            return false;
        }
        return users.PasswordHasher.VerifyHashedPassword(user!, hash, password) != PasswordVerificationResult.Failed;
    }
}
