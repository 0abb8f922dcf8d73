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

/// <summary>How a reply's From names its sender (API.md "Conversation").</summary>
public enum FromFormat
{
    /// <summary>The address's display name: <c>Acme Support &lt;support@acme.com&gt;</c>.</summary>
    Address,
    /// <summary>The operator and the address: <c>Ann from Acme Support &lt;support@acme.com&gt;</c>.</summary>
    OperatorFromAddress,
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

    /// <summary>The name replies are sent under, e.g. "Acme Support"; null sends the bare address.</summary>
    public string? DisplayName { get; set; }

    public FromFormat FromFormat { get; set; } = FromFormat.Address;

    /// <summary>
    /// The signature of replies from this address, with <c>{operator.name}</c>, <c>{operator.firstName}</c> and
    /// <c>{address.name}</c> filled in; null leaves each operator's own signature.
    /// </summary>
    public string? Signature { get; set; }

    /// <summary>Whether the composer includes the answered message by default (kept for the composer; off by default).</summary>
    public bool QuoteByDefault { get; set; }
}
