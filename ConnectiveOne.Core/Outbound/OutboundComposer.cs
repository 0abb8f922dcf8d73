using System.Security.Cryptography;
using System.Text;
using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Tickets;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Cryptography;

namespace ConnectiveOne.Core.Outbound;

/// <summary>
/// Who a mail of an address is from, and the DKIM signer to use (null: unsigned). <see cref="ReplyTo"/> is the corporate
/// address when the mail has to go From the technical one, so that answers still reach the address the customer knows.
/// </summary>
public sealed record SenderIdentity(MailboxAddress From, DkimSigner? Signer, MailboxAddress? ReplyTo = null)
{
    public bool Signed => Signer is not null;
}

/// <summary>
/// Decides the sender of an address's mail and turns a composed message into the bytes the outbox sends:
/// From the corporate address with a DKIM signature when its domain is Verified, otherwise From the technical
/// address, unsigned (the relay can only send for domains that proved they allow it).
/// </summary>
public sealed class OutboundComposer(AppDbContext db, IDataProtectionProvider protection, IOptions<ConnectiveOneOptions> options,
    TimeProvider clock)
{
    /// <summary>Purpose string of the Data Protection protector that encrypts DKIM private keys.</summary>
    public const string DkimProtectorPurpose = "ConnectiveOne.Dkim.v1";

    /// <summary>Headers covered by our DKIM signature (those present are signed; absent ones are skipped by MimeKit).</summary>
    private static readonly HeaderId[] SignedHeaders =
    [
        HeaderId.From, HeaderId.ReplyTo, HeaderId.To, HeaderId.Cc, HeaderId.Subject, HeaderId.Date, HeaderId.MessageId, HeaderId.InReplyTo,
        HeaderId.References, HeaderId.MimeVersion, HeaderId.ContentType,
    ];

    private static readonly FormatOptions WireFormat = CreateWireFormat();

    public string InboundDomain => options.Value.InboundDomain.Trim().ToLowerInvariant();

    /// <summary>
    /// The sender of <paramref name="address"/>'s mail, named per its <see cref="CorporateAddress.FromFormat"/>: its display
    /// name ("Acme Support"), or "<paramref name="operatorName"/> from Acme Support" for a reply an operator wrote.
    /// </summary>
    public async Task<SenderIdentity> ResolveSenderAsync(CorporateAddress address, CancellationToken ct, string? operatorName = null)
    {
        var name = SenderName(address, operatorName);
        var (domain, key) = await SigningKeyAsync(address, ct);
        // DMARC alignment guard: From the corporate domain without its DKIM signature would fail DMARC at the receiver.
        if (domain is null || key is null)
            return new SenderIdentity(new MailboxAddress(name, address.TechnicalAddress), null, new MailboxAddress(name, address.Email));

        var pem = protection.CreateProtector(DkimProtectorPurpose).Unprotect(key.ProtectedPrivateKey);
        using var stream = new MemoryStream(Encoding.ASCII.GetBytes(pem));
        var signer = new DkimSigner(stream, domain.Name, key.Selector, DkimSignatureAlgorithm.RsaSha256)
        {
            HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
            BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
        };
        return new SenderIdentity(new MailboxAddress(name, address.Email), signer);
    }

    /// <summary>
    /// Null when mail of <paramref name="address"/> goes From the corporate address, DKIM-signed; otherwise, in words for the
    /// composer, why it goes From the technical address instead and where answers go.
    /// </summary>
    public async Task<string?> TechnicalSenderReasonAsync(CorporateAddress address, CancellationToken ct)
    {
        var (domain, key) = await SigningKeyAsync(address, ct);
        if (domain is not null && key is not null)
            return null;
        var why = await db.Domains.AsNoTracking().AnyAsync(d => d.Name == address.Domain && d.Status == DomainStatus.Verified, ct)
            ? $"{address.Domain} has no active DKIM key"
            : $"{address.Domain} is not verified (its DNS records are missing or have changed)";
        return $"{why}, so this reply goes from {address.TechnicalAddress} with Reply-To {address.Email}: "
               + $"sent from {address.Email} unsigned, receivers would reject it (DMARC). Answers still come back to this ticket.";
    }

    // The domain and key mail of the address is signed with; both null unless the domain is Verified and has an active key.
    private async Task<(MailDomain? Domain, DkimKey? Key)> SigningKeyAsync(CorporateAddress address, CancellationToken ct)
    {
        var domain = await db.Domains.AsNoTracking().Include(d => d.DkimKeys)
            .FirstOrDefaultAsync(d => d.Name == address.Domain, ct);
        var key = domain?.DkimKeys.FirstOrDefault(k => k.Active && k.Selector == DkimKeyPair.PrimarySelector)
                  ?? domain?.DkimKeys.FirstOrDefault(k => k.Active);
        return domain is { Status: DomainStatus.Verified } && key is not null ? (domain, key) : (null, null);
    }

    /// <summary>
    /// The MIME body of a composed mail: multipart/alternative (text and HTML) of <paramref name="body"/>, inside
    /// multipart/mixed with the files when there are any. Replies, forwards and new mails all build their body here.
    /// A file whose Content-ID the HTML refers to (<see cref="ComposedBody.InlineImages"/>) goes inline beside the HTML,
    /// as mail clients expect: alternative(text, related(html, image with that Content-ID)).
    /// </summary>
    public static MimeEntity BuildBody(ComposedBody body, IEnumerable<ReplyAttachment> files)
    {
        var builder = new BodyBuilder { TextBody = body.Text, HtmlBody = body.Html };
        foreach (var file in files)
        {
            // A type the browser or client made up must not fail the mail: the file goes as plain bytes then.
            var type = ContentType.TryParse(file.ContentType, out var parsed) ? parsed : new ContentType("application", "octet-stream");
            if (file.ContentId is { } id && body.InlineImages.Contains(id))
                builder.LinkedResources.Add(file.FileName, file.Content, type).ContentId = id;
            else
                builder.Attachments.Add(file.FileName, file.Content, type);
        }
        return builder.ToMessageBody();
    }

    /// <summary>The display name of the From header (null: the bare address).</summary>
    public static string? SenderName(CorporateAddress address, string? operatorName)
    {
        var addressName = string.IsNullOrWhiteSpace(address.DisplayName) ? null : address.DisplayName.Trim();
        if (address.FromFormat != FromFormat.OperatorFromAddress || string.IsNullOrWhiteSpace(operatorName))
            return addressName;
        return addressName is null ? operatorName.Trim() : $"{operatorName.Trim()} from {addressName}";
    }

    /// <summary>
    /// Null when a reply can be sent to <paramref name="address"/>; otherwise why not, in words: it is no usable address,
    /// or it is one of ours (a technical address, or a corporate address whose mail comes straight back in).
    /// </summary>
    public async Task<string?> ReplyRecipientProblemAsync(string? address, CancellationToken ct)
    {
        if (CustomerAddress.NoReplyAddress(address) is { } problem)
            return problem;
        var normalized = address!.Trim().ToLowerInvariant();
        var own = CustomerAddress.IsOwn(normalized, InboundDomain, [])
                  || await db.Addresses.AsNoTracking().AnyAsync(a => a.NormalizedEmail == normalized, ct);
        return own ? $"{address} is one of this helpdesk's own addresses: a reply there would come straight back in, so it is not sent." : null;
    }

    /// <summary>A fresh message with From, Date and Message-ID set; pass null for a random id on the inbound domain.</summary>
    public MimeMessage Create(SenderIdentity sender, string? messageId = null)
    {
        var message = new MimeMessage { Date = clock.GetUtcNow(), MessageId = messageId ?? RandomMessageId() };
        message.From.Add(sender.From);
        if (sender.ReplyTo is { } replyTo)
            message.ReplyTo.Add(replyTo);
        return message;
    }

    /// <summary>
    /// Marks mail that no person wrote (tests), so that if it comes back our loop detection sees it for what it is
    /// and no auto-responder anywhere answers it.
    /// </summary>
    public void MarkAutomatic(MimeMessage message)
    {
        message.Headers.Replace("Auto-Submitted", "auto-generated");
        message.Headers.Replace("X-Loop", InboundDomain);
    }

    /// <summary>Prepares the message for a 7-bit transport, signs it when the sender can, and returns its bytes.</summary>
    public byte[] Finish(MimeMessage message, SenderIdentity sender)
    {
        // After this nothing may change the message: the relay must receive exactly what was signed.
        message.Prepare(EncodingConstraint.SevenBit);
        sender.Signer?.Sign(message, SignedHeaders);
        using var buffer = new MemoryStream();
        // CRLF, as on the wire: the stored raw message is byte for byte what the relay receives.
        message.WriteTo(WireFormat, buffer);
        return buffer.ToArray();
    }

    private static FormatOptions CreateWireFormat()
    {
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        return format;
    }

    private string RandomMessageId() =>
        $"{RandomNumberGenerator.GetHexString(24, lowercase: true)}@{InboundDomain}";
}
