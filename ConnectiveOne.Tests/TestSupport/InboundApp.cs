using System.Net;
using System.Security.Cryptography;
using System.Text;
using ConnectiveOne.Core.Inbound.Smtp;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;

namespace ConnectiveOne.Tests.TestSupport;

/// <summary>A <see cref="TestApp"/> with inbound SMTP on a free loopback port and both webhooks on.</summary>
public sealed class InboundApp : IAsyncDisposable
{
    public const string WebhookToken = "test-webhook-token-0123456789";
    public const string MailgunKey = "key-test-mailgun-signing-0123456789";

    public InboundApp(IDictionary<string, string?>? settings = null)
        : this(settings, null, null)
    {
    }

    /// <summary>A node on a data folder and database that <see cref="SharedNodes"/> owns.</summary>
    internal InboundApp(IDictionary<string, string?>? settings, string? sharedDataDirectory, TestDatabase? sharedDatabase)
    {
        var all = new Dictionary<string, string?>
        {
            ["ConnectiveOne:Smtp:Listen"] = "127.0.0.1:0",
            ["ConnectiveOne:Inbound:WebhookToken"] = WebhookToken,
            ["ConnectiveOne:Inbound:MailgunSigningKey"] = MailgunKey,
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>())
            all[k] = v;
        App = new TestApp(true, all, sharedDataDirectory, sharedDatabase);
    }

    public TestApp App { get; }

    public async Task<IPEndPoint> SmtpEndpointAsync() =>
        await App.Services.GetRequiredService<SmtpListener>().Started ?? throw new InvalidOperationException("SMTP is off.");

    /// <summary>Sends over a real SMTP session to the listener; throws MailKit's exception on refusal.</summary>
    public async Task SendAsync(MimeMessage message, params string[] recipients)
    {
        var endpoint = await SmtpEndpointAsync();
        using var client = new SmtpClient();
        await client.ConnectAsync(endpoint.Address.ToString(), endpoint.Port, SecureSocketOptions.None);
        await client.SendAsync(message, MailboxAddress.Parse("sender@example.org"), recipients.Select(MailboxAddress.Parse));
        await client.DisconnectAsync(true);
    }

    /// <summary>A Mailgun "store and notify" form for <paramref name="message"/>, signed with <see cref="MailgunKey"/> unless a signature is given.</summary>
    public static MultipartFormDataContent MailgunForm(string recipient, MimeMessage message, string timestamp, string token,
        string? signature = null)
    {
        signature ??= Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(MailgunKey), Encoding.UTF8.GetBytes(timestamp + token)));
        using var bytes = new MemoryStream();
        message.WriteTo(bytes);
        return new MultipartFormDataContent
        {
            { new StringContent(recipient), "recipient" },
            { new StringContent(Encoding.UTF8.GetString(bytes.ToArray())), "body-mime" },
            { new StringContent(timestamp), "timestamp" },
            { new StringContent(token), "token" },
            { new StringContent(signature), "signature" },
        };
    }

    public ValueTask DisposeAsync() => App.DisposeAsync();
}
