using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Core.Inbound.Intake;

/// <summary>
/// Checks Mailgun's webhook signature: hex HMAC-SHA256 of <c>timestamp + token</c> under the signing key,
/// a timestamp no older than five minutes, and a token not seen before (replays are refused).
/// </summary>
public sealed class MailgunVerifier(IOptions<ConnectiveOneOptions> options, TimeProvider clock)
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _seen = new(StringComparer.Ordinal);

    public bool IsConfigured => !string.IsNullOrEmpty(options.Value.Inbound.MailgunSigningKey);

    /// <summary>Null when valid; otherwise why not, in words.</summary>
    public string? Check(string? timestamp, string? token, string? signature)
    {
        var key = options.Value.Inbound.MailgunSigningKey;
        if (string.IsNullOrEmpty(key))
            return "The Mailgun webhook is off: set ConnectiveOne:Inbound:MailgunSigningKey.";
        if (string.IsNullOrEmpty(timestamp) || string.IsNullOrEmpty(token) || string.IsNullOrEmpty(signature))
            return "The Mailgun signature fields (timestamp, token, signature) are missing.";
        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(timestamp + token));
        byte[] presented;
        try
        {
            presented = Convert.FromHexString(signature.Trim());
        }
        catch (FormatException)
        {
            return "The Mailgun signature is not valid.";
        }
        if (!CryptographicOperations.FixedTimeEquals(expected, presented))
            return "The Mailgun signature is not valid.";
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            return "The Mailgun timestamp is not a number.";
        var now = clock.GetUtcNow();
        var age = now - DateTimeOffset.FromUnixTimeSeconds(Math.Min(seconds, 253402300799));
        if (age > MaxAge || age < -MaxAge)
            return "The Mailgun timestamp is too old (more than five minutes): the request may be a replay.";
        if (_seen.ContainsKey(token))
            return "This Mailgun token was used already: the request is a replay.";
        return null;
    }

    /// <summary>Remembers a token once its request was handled, so the same signature cannot be used again.</summary>
    public void MarkUsed(string token)
    {
        var now = clock.GetUtcNow();
        _seen[token] = now;
        if (_seen.Count > 10_000)
        {
            foreach (var (old, at) in _seen)
            {
                if (now - at > MaxAge * 2)
                    _seen.TryRemove(old, out _);
            }
        }
    }
}
