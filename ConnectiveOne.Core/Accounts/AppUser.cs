using Microsoft.AspNetCore.Identity;

namespace ConnectiveOne.Core.Accounts;

/// <summary>A person who signs in: an admin or an operator.</summary>
public sealed class AppUser : IdentityUser
{
    public string? DisplayName { get; set; }

    /// <summary>The user's own signature, appended to their replies when their address has none.</summary>
    public string? Signature { get; set; }

    /// <summary>Deactivated users keep their history but cannot sign in or use tokens.</summary>
    public bool IsActive { get; set; } = true;

    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;

    public string Name => string.IsNullOrWhiteSpace(DisplayName) ? Email ?? UserName ?? Id : DisplayName;
}
