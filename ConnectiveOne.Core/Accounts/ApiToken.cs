namespace ConnectiveOne.Core.Accounts;

/// <summary>A bearer token for the HTTP API. Only the SHA-256 of the secret is stored.</summary>
public sealed class ApiToken
{
    public Guid Id { get; set; } = Guid.NewGuid();
    public required string UserId { get; set; }
    public AppUser? User { get; set; }
    public required string Name { get; set; }

    /// <summary>Hex SHA-256 of the token; the token itself is shown once and never stored.</summary>
    public required string Hash { get; set; }

    /// <summary>The first characters of the token, so the owner can tell tokens apart.</summary>
    public required string Prefix { get; set; }

    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}
