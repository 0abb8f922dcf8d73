using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Persistence;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace ConnectiveOne.Core.Accounts;

public sealed record UserInfo(string Id, string Email, string? DisplayName, string Role, bool IsActive,
    DateTimeOffset CreatedAt, bool LockedOut)
{
    /// <summary>The user's own signature for replies (see <see cref="AppUser.Signature"/>).</summary>
    public string? Signature { get; init; }
}

/// <summary>The outcome of an account change: the user, or what was wrong in words.</summary>
public sealed record AccountResult(UserInfo? User, AccountError? Error, string? Message)
{
    public static AccountResult Ok(UserInfo user) => new(user, null, null);
    public static AccountResult Fail(AccountError error, string message) => new(null, error, message);
}

public enum AccountError { Invalid, Conflict, NotFound, LastAdmin }

/// <summary>Admin-side user management on top of Identity's <see cref="UserManager{TUser}"/>.</summary>
public sealed class UserDirectory(UserManager<AppUser> users, AppDbContext db, TimeProvider clock, ChangeNotifier notifier)
{
    public async Task<IReadOnlyList<UserInfo>> ListAsync(CancellationToken ct = default)
    {
        var roleOf = await (from ur in db.UserRoles
                            join r in db.Roles on ur.RoleId equals r.Id
                            select new { ur.UserId, r.Name }).ToListAsync(ct);
        // Sorted here: SQLite and PostgreSQL collate text differently (byte order vs the server's locale).
        var all = (await db.Users.AsNoTracking().ToListAsync(ct)).OrderBy(u => u.Email, StringComparer.Ordinal);
        var now = clock.GetUtcNow();
        return all.Select(u => ToInfo(u, PrimaryRole(roleOf.Where(x => x.UserId == u.Id).Select(x => x.Name)), now)).ToList();
    }

    public async Task<UserInfo?> FindAsync(string id)
    {
        var user = await users.FindByIdAsync(id);
        return user is null ? null : await InfoAsync(user);
    }

    public async Task<AccountResult> CreateAsync(string? email, string? password, string? role, string? displayName = null)
    {
        var canonicalRole = Roles.Normalize(role);
        if (canonicalRole is null)
            return AccountResult.Fail(AccountError.Invalid, "The role must be Admin or Operator.");
        if (string.IsNullOrWhiteSpace(email) || !MimeKit.MailboxAddress.TryParse(email.Trim(), out var parsed)
            || parsed.Address != email.Trim() || !parsed.Address.Contains('@'))
            return AccountResult.Fail(AccountError.Invalid, "That is not an email address.");
        if (string.IsNullOrEmpty(password))
            return AccountResult.Fail(AccountError.Invalid, "A password is required.");
        if (await users.FindByEmailAsync(email.Trim()) is not null)
            return AccountResult.Fail(AccountError.Conflict, $"A user with the email {email.Trim()} already exists.");

        var user = new AppUser
        {
            UserName = email.Trim(),
            Email = email.Trim(),
            EmailConfirmed = true,
            DisplayName = string.IsNullOrWhiteSpace(displayName) ? null : displayName.Trim(),
            CreatedAt = clock.GetUtcNow(),
        };
        var created = await users.CreateAsync(user, password);
        if (!created.Succeeded)
            return AccountResult.Fail(AccountError.Invalid, Describe(created));
        await users.AddToRoleAsync(user, canonicalRole);
        return AccountResult.Ok(await InfoAsync(user));
    }

    /// <summary>Longest display name and signature a user may set.</summary>
    public const int MaxDisplayName = 100, MaxSignature = 4000;

    /// <summary>
    /// A user's own profile: the name the team and customers see on their replies, and their signature. Null leaves a
    /// field as it is; "" clears it.
    /// </summary>
    public async Task<AccountResult> UpdateProfileAsync(string id, string? displayName, string? signature)
    {
        if (displayName is not null && (displayName.Trim().Length > MaxDisplayName || displayName.Any(char.IsControl)))
            return AccountResult.Fail(AccountError.Invalid, $"A display name is one line of at most {MaxDisplayName} characters.");
        if (signature is not null && signature.Length > MaxSignature)
            return AccountResult.Fail(AccountError.Invalid, $"A signature can be at most {MaxSignature} characters long.");
        var user = await users.FindByIdAsync(id);
        if (user is null)
            return AccountResult.Fail(AccountError.NotFound, "There is no such user.");
        if (displayName is not null)
            user.DisplayName = displayName.Trim().Length == 0 ? null : displayName.Trim();
        if (signature is not null)
            user.Signature = signature.Trim().Length == 0 ? null : signature.TrimEnd();
        var updated = await users.UpdateAsync(user);
        if (!updated.Succeeded)
            return AccountResult.Fail(AccountError.Invalid, Describe(updated));
        notifier.Publish(new ChangeEvent(ChangeKind.UserChanged, user.Id));
        return AccountResult.Ok(await InfoAsync(user));
    }

    /// <summary>Changes a user's role. The security stamp changes too, so the user's open sessions end.</summary>
    public async Task<AccountResult> SetRoleAsync(string id, string? role)
    {
        var canonicalRole = Roles.Normalize(role);
        if (canonicalRole is null)
            return AccountResult.Fail(AccountError.Invalid, "The role must be Admin or Operator.");
        return await ChangeAdminsAsync(id, async user =>
        {
            var current = await users.GetRolesAsync(user);
            if (current.Contains(Roles.Admin) && canonicalRole != Roles.Admin && await IsLastActiveAdminAsync(user))
                return "This is the last active admin: make someone else admin first.";
            await users.RemoveFromRolesAsync(user, current);
            await users.AddToRoleAsync(user, canonicalRole);
            return null;
        });
    }

    /// <summary>Deactivates or reactivates a user; a deactivated user's sessions and tokens stop working.</summary>
    public async Task<AccountResult> SetActiveAsync(string id, bool active) =>
        await ChangeAdminsAsync(id, async user =>
        {
            if (!active && await users.IsInRoleAsync(user, Roles.Admin) && await IsLastActiveAdminAsync(user))
                return "This is the last active admin: it cannot be deactivated.";
            user.IsActive = active;
            await users.UpdateAsync(user);
            return null;
        });

    /// <summary>
    /// Runs a change that may remove an admin in one transaction with its last-admin check, one such change at a
    /// time: two admins demoting each other at once must leave one. SQLite's transactions take the write lock at
    /// BEGIN; PostgreSQL takes a transaction advisory lock. Then the user's stamp changes, ending their sessions.
    /// </summary>
    /// <param name="id">The user to change.</param>
    /// <param name="change">Returns why the change is refused, or null once it is made.</param>
    private async Task<AccountResult> ChangeAdminsAsync(string id, Func<AppUser, Task<string?>> change)
    {
        AppUser? user;
        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            if (db.Database.IsNpgsql())
                await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_xact_lock(hashtext('connectiveone:admins'))");
            // Rows read before the lock (this context may live as long as a page) would hide the other change.
            db.ChangeTracker.Clear();
            user = await users.FindByIdAsync(id);
            if (user is null)
                return AccountResult.Fail(AccountError.NotFound, "There is no such user.");
            if (await change(user) is { } refused)
                return AccountResult.Fail(AccountError.LastAdmin, refused);
            await users.UpdateSecurityStampAsync(user);
            await transaction.CommitAsync();
        }
        notifier.Publish(new ChangeEvent(ChangeKind.UserChanged, user.Id));
        return AccountResult.Ok(await InfoAsync(user));
    }

    private async Task<bool> IsLastActiveAdminAsync(AppUser user)
    {
        var admins = await users.GetUsersInRoleAsync(Roles.Admin);
        return admins.All(a => a.Id == user.Id || !a.IsActive);
    }

    private async Task<UserInfo> InfoAsync(AppUser user) =>
        ToInfo(user, PrimaryRole(await users.GetRolesAsync(user)), clock.GetUtcNow());

    private static UserInfo ToInfo(AppUser u, string role, DateTimeOffset now) =>
        new(u.Id, u.Email ?? "", u.DisplayName, role, u.IsActive, u.CreatedAt, u.LockoutEnd > now) { Signature = u.Signature };

    private static string PrimaryRole(IEnumerable<string?> roles)
    {
        var list = roles.ToList();
        return list.Contains(Roles.Admin) ? Roles.Admin : Roles.Operator;
    }

    /// <summary>Identity's error descriptions joined into one sentence list.</summary>
    public static string Describe(IdentityResult result) => string.Join(" ", result.Errors.Select(e => e.Description));
}
