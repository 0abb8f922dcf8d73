using ConnectiveOne.Core.Nodes;

namespace ConnectiveOne.Core.Dns;

/// <summary>
/// A corporate domain with its verification token, DKIM keys and last DNS check. Shared by every address
/// on the domain: an address on a verified domain is verified at once.
/// </summary>
public sealed class MailDomain : ILeasedWork
{
    /// <summary>Lower-case punycode domain name (the key).</summary>
    public required string Name { get; set; }

    /// <summary>Random token published as <c>connectiveone-verification=&lt;token&gt;</c> at the apex.</summary>
    public required string VerificationToken { get; set; }

    public DomainStatus Status { get; set; } = DomainStatus.Pending;

    /// <summary>When the status last changed (drives the re-check schedule).</summary>
    public DateTimeOffset StatusChangedAt { get; set; } = DateTimeOffset.UtcNow;

    public DateTimeOffset? CheckedAt { get; set; }

    /// <summary>The last check that found every required record; once set, a missing record means it was removed.</summary>
    public DateTimeOffset? VerifiedAt { get; set; }

    /// <summary>When the background worker should check this domain next.</summary>
    public DateTimeOffset? NextCheckAt { get; set; }

    /// <summary>The records of the last check (expected, found, status, hint), as JSON.</summary>
    public string? LastCheckJson { get; set; }

    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;

    public List<DkimKey> DkimKeys { get; set; } = [];

    /// <inheritdoc />
    public string? LeaseOwner { get; set; }

    /// <inheritdoc />
    public DateTimeOffset? LeaseExpiresAt { get; set; }
}

/// <summary>One DKIM selector's key pair. The private key is stored only encrypted with Data Protection.</summary>
public sealed class DkimKey
{
    /// <summary>The Data Protection purpose of <see cref="ProtectedPrivateKey"/>; the signer unprotects with the same.</summary>
    public const string ProtectionPurpose = "ConnectiveOne.Dkim.v1";

    public Guid Id { get; set; } = Guid.NewGuid();
    public required string DomainName { get; set; }

    /// <summary><c>k1</c> (active) or <c>k2</c> (prepared for rotation).</summary>
    public required string Selector { get; set; }

    /// <summary>Base64 SubjectPublicKeyInfo, as published in <c>p=</c>.</summary>
    public required string PublicKey { get; set; }

    /// <summary>The PKCS#8 PEM private key, protected with Data Protection (never stored in clear).</summary>
    public required string ProtectedPrivateKey { get; set; }

    /// <summary>Whether mail is signed with this selector now.</summary>
    public bool Active { get; set; }

    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
}
