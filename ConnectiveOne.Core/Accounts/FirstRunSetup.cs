using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Core.Accounts;

/// <summary>
/// The one-time link that lets the first person claim an empty instance (like Jenkins' initial password).
/// The token lives in <c>data/setup-token</c>; it is valid only while no user exists and is deleted once used.
/// </summary>
public sealed class FirstRunSetup(IOptions<ConnectiveOneOptions> options)
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public string TokenPath => Path.Combine(options.Value.DataPath, "setup-token");

    /// <summary>Returns the current setup token when the instance has no user yet, creating it if needed.</summary>
    public async Task<string?> EnsureTokenAsync(UserManager<AppUser> users, CancellationToken ct = default)
    {
        if (await users.Users.AnyAsync(ct))
        {
            File.Delete(TokenPath);
            return null;
        }
        if (File.Exists(TokenPath))
        {
            var existing = (await File.ReadAllTextAsync(TokenPath, ct)).Trim();
            if (existing.Length >= 20)
                return existing;
        }
        var token = Base32.Encode(RandomNumberGenerator.GetBytes(20)).ToLowerInvariant();
        Directory.CreateDirectory(options.Value.DataPath);
        // Written aside and moved into place, so nobody (the log banner, an admin's cat) ever reads half a token.
        var temp = TokenPath + ".tmp";
        await File.WriteAllTextAsync(temp, token, ct);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temp, TokenPath, overwrite: true);
        return token;
    }

    /// <summary>True when the token is the current one and nobody has claimed the instance yet.</summary>
    public async Task<bool> IsValidAsync(string? token, UserManager<AppUser> users, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(token) || !File.Exists(TokenPath) || await users.Users.AnyAsync(ct))
            return false;
        var expected = (await File.ReadAllTextAsync(TokenPath, ct)).Trim();
        return CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(expected), System.Text.Encoding.UTF8.GetBytes(token.Trim()));
    }

    /// <summary>Creates the first admin with the token; serialised so two tabs cannot both claim it.</summary>
    public async Task<AccountResult> ClaimAsync(string? token, string? email, string? password,
        UserManager<AppUser> users, UserDirectory directory, CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (!await IsValidAsync(token, users, ct))
                return AccountResult.Fail(AccountError.Invalid, "This setup link has already been used or is not valid.");
            var result = await directory.CreateAsync(email, password, Roles.Admin);
            if (result.User is not null)
                File.Delete(TokenPath);
            return result;
        }
        finally
        {
            _gate.Release();
        }
    }
}
