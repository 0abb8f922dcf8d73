using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ConnectiveOne.Core.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Core.Inbound.Intake;

/// <summary>
/// Checks Mailgun's webhook signature: hex HMAC-SHA256 of <c>timestamp + token</c> under the signing key,
/// a timestamp no older than five minutes, and a token not seen before on any node (replays are refused: the
/// token is taken in the database with one insert, so two nodes cannot both accept it).
/// </summary>
public sealed class MailgunVerifier(IOptions<ConnectiveOneOptions> options, IServiceScopeFactory scopes, TimeProvider clock)
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);
    private long _sweptAtTicks;

    public bool IsConfigured => !string.IsNullOrEmpty(options.Value.Inbound.MailgunSigningKey);

    /// <summary>
    /// Null when valid, and then the token is taken: call <see cref="ReleaseAsync"/> if the request is not handled
    /// after all, so Mailgun's retry is accepted. Otherwise why not, in words.
    /// </summary>
    public async Task<string?> CheckAndTakeAsync(string? timestamp, string? token, string? signature, CancellationToken ct = default)
    {
        if (Check(timestamp, token, signature) is { } problem)
            return problem;
        if (!await TryTakeAsync(token!, clock.GetUtcNow(), ct))
            return "This Mailgun token was used already: the request is a replay.";
        return null;
    }

    /// <summary>
    /// The signature and the timestamp's age alone, without taking the token: lets the webhook refuse a forged request
    /// as soon as the three fields are read, before the message in the same form. Null when they are valid.
    /// </summary>
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
        return null;
    }

    /// <summary>Gives a taken token back (the request failed and Mailgun will send it again).</summary>
    public async Task ReleaseAsync(string token)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await db.MailgunTokens.Where(t => t.Token == token).ExecuteDeleteAsync();
    }

    private async Task<bool> TryTakeAsync(string token, DateTimeOffset now, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        // Tokens older than any acceptable timestamp cannot be replayed anyway (the age check refuses them): swept at
        // most once per MaxAge, not by every request.
        var swept = Interlocked.Read(ref _sweptAtTicks);
        if (now.UtcTicks - swept >= MaxAge.Ticks && Interlocked.CompareExchange(ref _sweptAtTicks, now.UtcTicks, swept) == swept)
            await db.MailgunTokens.Where(t => t.ExpiresAt < now).ExecuteDeleteAsync(ct);
        // One insert decides: the primary key lets exactly one node (or request) have the token.
        return await db.InsertIfMissingAsync(new MailgunToken { Token = token, ExpiresAt = now + 2 * MaxAge }, ct);
    }
}
