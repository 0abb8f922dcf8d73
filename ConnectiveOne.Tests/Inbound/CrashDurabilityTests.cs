using System.Collections.Concurrent;
using ConnectiveOne.Tests.TestSupport;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.EntityFrameworkCore;
using MimeKit;

namespace ConnectiveOne.Tests.Inbound;

/// <summary>250 means durable: kill -9 the app in the middle of a burst; after a restart every acknowledged message is there.</summary>
public sealed class CrashDurabilityTests
{
    [Fact]
    public async Task Every_message_that_got_250_survives_a_kill_during_a_burst()
    {
        await using var app = new AppProcess();
        await app.StartAsync();
        var address = await InboundAddresses.AddAsync(app.Database, "support@crash.test");

        var acknowledged = new ConcurrentBag<string>();
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var senders = Enumerable.Range(0, 4).Select(connection => Task.Run(async () =>
        {
            try
            {
                using var client = new SmtpClient();
                await client.ConnectAsync("127.0.0.1", app.SmtpPort, SecureSocketOptions.None, stop.Token);
                for (var i = 0; i < 250; i++)
                {
                    var message = new MimeMessage();
                    message.From.Add(MailboxAddress.Parse($"c{connection}@customer.test"));
                    message.To.Add(MailboxAddress.Parse("support@crash.test"));
                    message.Subject = $"Burst {connection}-{i}";
                    message.MessageId = $"burst-{connection}-{i}-{Guid.NewGuid():N}@customer.test";
                    message.Body = new TextPart("plain") { Text = new string('x', 2000) };
                    await client.SendAsync(message, MailboxAddress.Parse($"c{connection}@customer.test"),
                        [MailboxAddress.Parse(address.TechnicalAddress)], stop.Token);
                    acknowledged.Add(message.MessageId);
                }
            }
            catch (Exception)
            {
                // The kill cuts the sessions; what matters is which messages got 250 before it.
            }
        })).ToList();

        // Kill once a good part of the burst is acknowledged, so the kill lands mid-stream.
        while (acknowledged.Count < 300 && senders.Any(s => !s.IsCompleted))
            await Task.Delay(5);
        await app.KillAsync();
        await Task.WhenAll(senders);
        Assert.True(acknowledged.Count >= 300, $"only {acknowledged.Count} acknowledged before the kill");

        await app.StartAsync();
        HashSet<string> stored;
        await using (var db = app.Database.OpenContext())
            stored = (await db.Messages.Select(m => m.MessageIdHeader!).ToListAsync()).ToHashSet(StringComparer.Ordinal);
        var lost = acknowledged.Where(id => !stored.Contains(id)).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} of {acknowledged.Count} acknowledged messages were lost, e.g. {lost.FirstOrDefault()}");
    }
}
