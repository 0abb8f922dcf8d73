using ConnectiveOne.Core.Events;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Logging;

namespace ConnectiveOne.Core.Accounts;

/// <summary>
/// A person changing their own credentials. Both changes give the user a new security stamp, which ends every other
/// session: cookies fail their next stamp check, open pages and live hub connections are ended by the
/// <see cref="ChangeKind.UserChanged"/> event (and by their own periodic check when the event is missed).
/// The session that made the change is signed in again by the caller.
/// </summary>
public sealed class CredentialChanges(UserManager<AppUser> users, SignInGuard guard, ApiTokenService tokens,
    ChangeNotifier notifier, ILogger<CredentialChanges> logger)
{
    public const string CurrentPasswordWrong =
        "The current password is wrong. After several wrong tries, wait a few minutes before trying again.";

    /// <summary>Changes the password; unless <paramref name="keepTokens"/>, the user's API tokens stop working too.</summary>
    /// <returns>Null on success, otherwise what was wrong in words.</returns>
    public async Task<string?> ChangePasswordAsync(AppUser user, string current, string next, bool keepTokens, string? clientAddress,
        CancellationToken ct = default)
    {
        // Guesses of the current password count like sign-in guesses: an open page is no unlimited oracle.
        if (!guard.CheckCurrentPassword(user, current, clientAddress))
            return CurrentPasswordWrong;
        // Not UserManager.ChangePasswordAsync: it would hash the current password a second time.
        foreach (var validator in users.PasswordValidators)
        {
            var valid = await validator.ValidateAsync(users, user, next);
            if (!valid.Succeeded)
                return UserDirectory.Describe(valid);
        }
        user.PasswordHash = users.PasswordHasher.HashPassword(user, next);
        var changed = await users.UpdateSecurityStampAsync(user);
        if (!changed.Succeeded)
            return UserDirectory.Describe(changed);
        var revoked = keepTokens ? 0 : await tokens.RevokeAllAsync(user.Id, ct);
        logger.LogInformation("User {UserId} changed their password; {Revoked} API tokens revoked, other sessions ended", user.Id, revoked);
        notifier.Publish(new ChangeEvent(ChangeKind.UserChanged, user.Id));
        return null;
    }

    /// <summary>Ends every session of the user (the caller signs its own in again); API tokens keep working.</summary>
    public async Task SignOutEverywhereAsync(AppUser user)
    {
        var result = await users.UpdateSecurityStampAsync(user);
        if (!result.Succeeded)
            throw new InvalidOperationException($"Could not end the sessions of user {user.Id}: {UserDirectory.Describe(result)}");
        logger.LogInformation("User {UserId} signed out of all other sessions", user.Id);
        notifier.Publish(new ChangeEvent(ChangeKind.UserChanged, user.Id));
    }
}
