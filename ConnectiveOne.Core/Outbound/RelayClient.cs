using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;

namespace ConnectiveOne.Core.Outbound;

public enum RelayOutcomeKind
{
    Accepted,
    /// <summary>4xx, a network problem or a timeout: worth trying again later.</summary>
    TemporaryFailure,
    /// <summary>5xx: the relay refused the mail for good.</summary>
    PermanentFailure,
    NotConfigured,
    /// <summary>Refused before the relay was asked (no usable recipient, unreadable bytes, refused by the mail client).</summary>
    Unsendable,
}

/// <summary>What the relay did with a mail, with its own words (status code and text).</summary>
public sealed record RelayOutcome(RelayOutcomeKind Kind, string Detail);

/// <summary>
/// Hands prepared mail to the configured SMTP relay with MailKit, one connection per mail. Every failure becomes
/// an outcome in words; nothing here throws except cancellation by the caller.
/// </summary>
public sealed class RelayClient(IOptionsMonitor<ConnectiveOneOptions> options, ILogger<RelayClient> logger)
{
    public const string NotConfiguredMessage = "No outbound relay configured: set ConnectiveOne:Outbound:Host";

    public bool IsConfigured => !string.IsNullOrWhiteSpace(options.CurrentValue.Outbound.Host);

    /// <summary>Sends <paramref name="message"/> exactly as it is (it must already be prepared and signed).</summary>
    public async Task<RelayOutcome> SendAsync(MimeMessage message, MailboxAddress sender, IReadOnlyList<MailboxAddress> recipients,
        CancellationToken ct)
    {
        var relay = options.CurrentValue.Outbound;
        if (string.IsNullOrWhiteSpace(relay.Host))
            return new RelayOutcome(RelayOutcomeKind.NotConfigured, NotConfiguredMessage);
        var security = Enum.Parse<SecureSocketOptions>(relay.Security, ignoreCase: true);

        using var client = new SmtpClient();
        client.Timeout = (int)relay.Timeout.TotalMilliseconds;
        // Bounds the whole conversation too: a relay that trickles bytes must not hold a test request for long.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(relay.Timeout * 3);
        try
        {
            await client.ConnectAsync(relay.Host, relay.Port, security, deadline.Token);
            if (!string.IsNullOrEmpty(relay.Username))
                await client.AuthenticateAsync(relay.Username, relay.Password ?? "", deadline.Token);
            var response = await client.SendAsync(message, sender, recipients, deadline.Token);
            try
            {
                await client.DisconnectAsync(quit: true, deadline.Token);
            }
            catch (Exception e) when (e is SocketException or IOException or SmtpProtocolException or SmtpCommandException
                                          or ServiceNotConnectedException or OperationCanceledException)
            {
                // The relay has the message (250): a failed QUIT must not turn the delivery into a retry, i.e. a duplicate.
            }
            return new RelayOutcome(RelayOutcomeKind.Accepted, $"{relay.Host} accepted it: {response}".Trim());
        }
        catch (SmtpCommandException e)
        {
            var code = (int)e.StatusCode;
            var kind = code is >= 400 and < 500 ? RelayOutcomeKind.TemporaryFailure : RelayOutcomeKind.PermanentFailure;
            return Log(new RelayOutcome(kind, $"{relay.Host} answered {code} {e.Message}".Trim()));
        }
        catch (AuthenticationException e)
        {
            // Fixing credentials needs a restart; until then the mail waits rather than being lost.
            return Log(new RelayOutcome(RelayOutcomeKind.TemporaryFailure,
                $"{relay.Host} refused the username or password (ConnectiveOne:Outbound:Username/Password): {e.Message}"));
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return Log(new RelayOutcome(RelayOutcomeKind.TemporaryFailure,
                $"{relay.Host}:{relay.Port} did not answer within {relay.Timeout.TotalSeconds:0} seconds."));
        }
        catch (Exception e) when (e is SocketException or IOException or SmtpProtocolException or SslHandshakeException
                                      or TimeoutException or ServiceNotConnectedException)
        {
            return Log(new RelayOutcome(RelayOutcomeKind.TemporaryFailure, $"Could not reach {relay.Host}:{relay.Port}: {e.Message}"));
        }
        catch (NotSupportedException e)
        {
            // The relay lacks something every mail needs (AUTH, STARTTLS, 8BITMIME): a setting to fix, the mail waits.
            return Log(new RelayOutcome(RelayOutcomeKind.TemporaryFailure, $"{relay.Host} cannot take mail as configured: {e.Message}"));
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException)
        {
            // MailKit refused this message or its addresses before sending (e.g. "No recipients have been specified."):
            // trying again cannot help it, and it must not hold up the mail behind it.
            return Log(new RelayOutcome(RelayOutcomeKind.Unsendable, $"the mail client refused it: {e.Message}"));
        }
    }

    private RelayOutcome Log(RelayOutcome outcome)
    {
        logger.LogWarning("Relay did not take the mail ({Outcome}): {Detail}", outcome.Kind, outcome.Detail);
        return outcome;
    }
}
