namespace ConnectiveOne.Core.Addresses;

/// <summary>Where the mail of a corporate address stands, as the forwarding step shows it.</summary>
public enum ForwardingStatus
{
    /// <summary>No message has arrived through the redirect yet.</summary>
    Waiting,
    /// <summary>Mail arrives; <see cref="CorporateAddress.LastReceivedAt"/> says when last.</summary>
    Receiving,
    /// <summary>A forwarding test mail sent to the corporate address came back through the redirect.</summary>
    Confirmed,
    /// <summary>Arriving mail looks forwarded-as (or forwarded by a client), not redirected at the server.</summary>
    ForwardedNotRedirected,
}

/// <summary>
/// A company's support address (support@acme.com) and the technical address its mail is redirected to.
/// </summary>
public sealed class CorporateAddress
{
    public Guid Id { get; set; } = Guid.NewGuid();

    /// <summary>The address as the admin entered it, with the domain in punycode (ASCII).</summary>
    public required string Email { get; set; }

    /// <summary>Lower-case form of <see cref="Email"/>: unique, so the same address in another case is a duplicate.</summary>
    public required string NormalizedEmail { get; set; }

    /// <summary>The domain in lower-case punycode; the key of its <see cref="Dns.MailDomain"/>.</summary>
    public required string Domain { get; set; }

    /// <summary>The unguessable address on the inbound domain (lower case), e.g. <c>support-acme-com-k3x9q2@inbound.example.net</c>.</summary>
    public required string TechnicalAddress { get; set; }

    public ForwardingStatus Forwarding { get; set; } = ForwardingStatus.Waiting;

    /// <summary>Why the forwarding status is what it is, in words (e.g. the forwarded-as reason).</summary>
    public string? ForwardingDetail { get; set; }

    public DateTimeOffset? LastReceivedAt { get; set; }

    /// <summary>The secret of the last forwarding test mail; its return through the redirect confirms forwarding.</summary>
    public string? ForwardingTestToken { get; set; }

    public DateTimeOffset? ForwardingTestSentAt { get; set; }

    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
}
