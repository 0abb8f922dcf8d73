using System.Security.Cryptography;
using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Tickets;
using Microsoft.EntityFrameworkCore;
using MimeKit;

namespace ConnectiveOne.Core.Outbound;

/// <summary>The relay's verdict on a test email: <c>Sent</c> or <c>Failed</c>, with its words.</summary>
public sealed record TestMailResult(DeliveryState Status, string Detail);

/// <summary>One test or forwarding-test mail of an address, for its history.</summary>
public sealed record TestMailRecord(Guid Id, OutboundKind Kind, string From, string To, bool DkimSigned, DeliveryState Status,
    string? Detail, DateTimeOffset CreatedAt);

/// <summary>How mail of an address goes out right now, for step 5 to explain before sending.</summary>
public sealed record SenderPreview(string AddressEmail, string Domain, string From, bool DkimSigned, bool RelayConfigured,
    DateTimeOffset? ForwardingTestSentAt, ForwardingStatus Forwarding)
{
    /// <summary>A forwarding test was sent and has not come back yet (intake clears its token when it does).</summary>
    public bool ForwardingTestAwaited { get; init; }
}

public enum TestMailError { None, AddressNotFound, InvalidRecipient }

/// <summary>Step 5 of the setup: test emails sent at once, and forwarding tests queued to the corporate address.</summary>
public sealed class TestMailService(AppDbContext db, OutboundComposer composer, OutboxDelivery delivery, OutboxSignal signal,
    RelayClient relay, TimeProvider clock)
{
    /// <summary>Header that carries the forwarding test's token; intake confirms forwarding when it comes back.</summary>
    public const string ForwardingTestHeader = "X-ConnectiveOne-Forwarding-Test";

    public const string ForwardingTestSubjectPrefix = "ConnectiveOne forwarding test";

    /// <summary>Sends a test email to <paramref name="to"/> now and returns what the relay said.</summary>
    public async Task<(TestMailError Error, TestMailResult? Result)> SendTestAsync(Guid addressId, string? to, string? userId,
        CancellationToken ct = default)
    {
        if (!TryParseRecipient(to, out var recipient))
            return (TestMailError.InvalidRecipient, null);
        var address = await db.Addresses.AsNoTracking().FirstOrDefaultAsync(a => a.Id == addressId, ct);
        if (address is null)
            return (TestMailError.AddressNotFound, null);

        var sender = await composer.ResolveSenderAsync(address, ct);
        var message = composer.Create(sender);
        message.To.Add(recipient);
        message.Subject = $"ConnectiveOne test email for {address.Email}";
        message.Body = new TextPart("plain")
        {
            Text = $"""
                    This is a test email from ConnectiveOne for {address.Email}.

                    It was sent from {sender.From.Address}{(sender.Signed
                        ? $", signed with DKIM for {address.Domain}, because that domain is verified."
                        : ", without a DKIM signature, because the domain " + address.Domain + " is not verified yet. Once its DNS records are verified, mail goes out from " + address.Email + ".")}

                    Nothing needs to be done with this message.
                    """,
        };
        composer.MarkAutomatic(message);
        var mail = NewMail(OutboundKind.Test, address, sender, message, recipient.Address, userId, nextAttemptAt: null);
        db.Outbox.Add(mail);
        await db.SaveChangesAsync(ct);

        await delivery.DeliverAsync(mail, ct);
        return (TestMailError.None, new TestMailResult(mail.State, mail.Detail ?? ""));
    }

    /// <summary>
    /// Queues a mail to the corporate address itself, From the technical address, carrying a fresh token in a header
    /// and the subject. Returns false when there is no such address.
    /// </summary>
    public async Task<bool> QueueForwardingTestAsync(Guid addressId, string? userId, CancellationToken ct = default)
    {
        var address = await db.Addresses.FirstOrDefaultAsync(a => a.Id == addressId, ct);
        if (address is null)
            return false;
        var token = RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz234567", 20);
        var sender = new SenderIdentity(new MailboxAddress(null, address.TechnicalAddress), null);
        var message = composer.Create(sender);
        message.To.Add(new MailboxAddress(null, address.Email));
        message.Subject = $"{ForwardingTestSubjectPrefix} {token}";
        message.Headers.Add(ForwardingTestHeader, token);
        message.Body = new TextPart("plain")
        {
            Text = $"""
                    ConnectiveOne sent this message to {address.Email} to check that its mail is redirected to {address.TechnicalAddress}.
                    When it arrives there, the forwarding of {address.Email} is confirmed. Nothing needs to be done with it.
                    """,
        };
        composer.MarkAutomatic(message);

        var now = clock.GetUtcNow();
        address.ForwardingTestToken = token;
        address.ForwardingTestSentAt = now;
        db.Outbox.Add(NewMail(OutboundKind.ForwardingTest, address, sender, message, address.Email, userId, nextAttemptAt: now));
        await db.SaveChangesAsync(ct);
        signal.Wake();
        return true;
    }

    /// <summary>Who the address's mail is from and whether it is signed; null when there is no such address.</summary>
    public async Task<SenderPreview?> PreviewSenderAsync(Guid addressId, CancellationToken ct = default)
    {
        var address = await db.Addresses.AsNoTracking().FirstOrDefaultAsync(a => a.Id == addressId, ct);
        if (address is null)
            return null;
        var sender = await composer.ResolveSenderAsync(address, ct);
        return new SenderPreview(address.Email, address.Domain, sender.From.Address, sender.Signed, relay.IsConfigured,
            address.ForwardingTestSentAt, address.Forwarding)
        {
            ForwardingTestAwaited = address.ForwardingTestToken is not null,
        };
    }

    /// <summary>The address's test and forwarding-test mails, newest first.</summary>
    public async Task<IReadOnlyList<TestMailRecord>> ListTestsAsync(Guid addressId, int take = 20, CancellationToken ct = default) =>
        await db.Outbox.AsNoTracking()
            .Where(m => m.AddressId == addressId && m.Kind != OutboundKind.Reply)
            .OrderByDescending(m => m.CreatedAt).Take(take)
            .Select(m => new TestMailRecord(m.Id, m.Kind, m.FromAddress, m.ToAddress, m.DkimSigned, m.State, m.Detail, m.CreatedAt))
            .ToListAsync(ct);

    /// <summary>A single plain address (<c>name@example.com</c>), which is all a test needs.</summary>
    public static bool TryParseRecipient(string? value, out MailboxAddress recipient)
    {
        recipient = null!;
        var text = value?.Trim();
        if (string.IsNullOrEmpty(text) || !MailboxAddress.TryParse(text, out var parsed) || parsed.Address != text)
            return false;
        var at = parsed.Address.LastIndexOf('@');
        if (at <= 0 || at == parsed.Address.Length - 1 || !parsed.Address[(at + 1)..].Contains('.'))
            return false;
        recipient = parsed;
        return true;
    }

    private OutboundMail NewMail(OutboundKind kind, CorporateAddress address, SenderIdentity sender, MimeMessage message,
        string to, string? userId, DateTimeOffset? nextAttemptAt) => new()
    {
        Kind = kind,
        AddressId = address.Id,
        FromAddress = sender.From.Address,
        ToAddress = to,
        Subject = message.Subject ?? "",
        MessageIdHeader = message.MessageId ?? "",
        DkimSigned = sender.Signed,
        Mime = composer.Finish(message, sender),
        NextAttemptAt = nextAttemptAt,
        CreatedByUserId = userId,
        CreatedAt = clock.GetUtcNow(),
    };
}
