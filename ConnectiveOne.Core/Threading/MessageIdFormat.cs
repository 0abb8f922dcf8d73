using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace ConnectiveOne.Core.Threading;

/// <summary>
/// Our own outgoing Message-IDs: <c>t{ticketNumber}-{threadToken}.{random}@{inboundDomain}</c>
/// (returned without angle brackets, the form MimeKit's <c>MimeMessage.MessageId</c> takes).
/// The thread token is a per-ticket secret stored on the ticket; a reply that carries our id is only
/// attached to ticket N when the token matches N's secret, so knowing a ticket number is not enough
/// to inject mail into someone else's ticket.
/// </summary>
public static partial class MessageIdFormat
{
    // RFC 4648 base32 alphabet in lower case: dot-atom safe, case-insensitive readable, no look-alikes 0/1/8.
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    /// <summary>Length of a thread token: 16 base32 characters = 80 random bits.</summary>
    public const int TokenLength = 16;

    private const int RandomLength = 16;

    /// <summary>A fresh per-ticket secret. Generate once when the ticket is created and store it with the ticket.</summary>
    public static string NewThreadToken() => RandomNumberGenerator.GetString(Alphabet, TokenLength);

    /// <summary>A new Message-ID for an outgoing message of ticket <paramref name="ticketNumber"/>, without angle brackets.</summary>
    public static string Generate(long ticketNumber, string threadToken, string inboundDomain)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ticketNumber);
        if (!IsValidToken(threadToken))
            throw new ArgumentException($"A thread token is {TokenLength} characters of [a-z2-7]; use {nameof(NewThreadToken)}.", nameof(threadToken));
        ArgumentException.ThrowIfNullOrWhiteSpace(inboundDomain);
        var random = RandomNumberGenerator.GetString(Alphabet, RandomLength);
        return $"t{ticketNumber}-{threadToken}.{random}@{inboundDomain.Trim().ToLowerInvariant()}";
    }

    /// <summary>
    /// Parses an id in our format (angle brackets optional). Parsing says nothing about authenticity:
    /// compare <see cref="OurMessageId.ThreadToken"/> with the ticket's secret (<see cref="TokenMatches"/>).
    /// </summary>
    public static bool TryParse(string? messageId, out OurMessageId result)
    {
        result = default!;
        if (string.IsNullOrWhiteSpace(messageId))
            return false;
        var match = Pattern().Match(MessageIds.Normalize(messageId));
        if (!match.Success || !long.TryParse(match.Groups["n"].ValueSpan, out var number) || number <= 0)
            return false;
        result = new OurMessageId(number, match.Groups["token"].Value.ToLowerInvariant(), match.Groups["domain"].Value.ToLowerInvariant());
        return true;
    }

    /// <summary>True when <paramref name="messageId"/> is in our format and was minted for <paramref name="inboundDomain"/>.</summary>
    public static bool IsOurs(string? messageId, string inboundDomain) =>
        TryParse(messageId, out var parsed) && string.Equals(parsed.Domain, inboundDomain.Trim(), StringComparison.OrdinalIgnoreCase);

    /// <summary>Constant-time comparison of a presented token with the ticket's stored secret.</summary>
    public static bool TokenMatches(string presented, string stored)
    {
        var a = System.Text.Encoding.ASCII.GetBytes(presented.ToLowerInvariant());
        var b = System.Text.Encoding.ASCII.GetBytes(stored.ToLowerInvariant());
        return CryptographicOperations.FixedTimeEquals(a, b);
    }

    private static bool IsValidToken(string token) =>
        token.Length == TokenLength && token.All(c => Alphabet.Contains(c));

    [GeneratedRegex(@"^t(?<n>[0-9]{1,18})-(?<token>[a-z2-7]{16})\.[a-z2-7]{16}@(?<domain>[^\s@<>]+)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}

/// <summary>The parts of one of our Message-IDs; the token is lower-cased.</summary>
public sealed record OurMessageId(long TicketNumber, string ThreadToken, string Domain);
