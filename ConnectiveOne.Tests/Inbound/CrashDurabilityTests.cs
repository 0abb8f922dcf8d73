using System.Collections.Concurrent;
using ConnectiveOne.Tests.TestSupport;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.EntityFrameworkCore;
using MimeKit;

namespace ConnectiveOne.Tests.Inbound;

/// <summary>
/// 250 means durable: kill -9 the app in the middle of a burst; after a restart every acknowledged message is there,
/// with its attachments' content, and the kill left no content without a message and no files beside the database.
/// </summary>
public sealed class CrashDurabilityTests
{
    [Fact]
    public async Task Every_message_that_got_250_survives_a_kill_during_a_burst()
    {
        await using var app = new AppProcess();
        await app.StartAsync();
        var address = await InboundAddresses.AddAsync(app.Database, "support@crash.test");

        var acknowledged = new ConcurrentBag<string>();
        var withAttachment = new ConcurrentBag<string>();
        // Every third message carries a file: one of a few contents shared across connections (stored once, referred
        // to by many batches), or its own.
        var shared = Enumerable.Range(0, 3).Select(i => System.Text.Encoding.UTF8.GetBytes($"shared content {i} " + new string('s', 3000))).ToArray();
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
                    var text = new TextPart("plain") { Text = new string('x', 2000) };
                    if (i % 3 == 0)
                    {
                        var content = i % 2 == 0 ? shared[i / 6 % shared.Length] : System.Text.Encoding.UTF8.GetBytes($"own content of {message.MessageId}");
                        message.Body = new Multipart("mixed")
                        {
                            text,
                            new MimePart("application", "octet-stream") { FileName = $"file-{i}.bin", Content = new MimeContent(new MemoryStream(content)) },
                        };
                    }
                    else
                    {
                        message.Body = text;
                    }
                    await client.SendAsync(message, MailboxAddress.Parse($"c{connection}@customer.test"),
                        [MailboxAddress.Parse(address.TechnicalAddress)], stop.Token);
                    acknowledged.Add(message.MessageId);
                    if (i % 3 == 0)
                        withAttachment.Add(message.MessageId);
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
        await using var db = app.Database.OpenContext();
        var stored = (await db.Messages.Select(m => m.MessageIdHeader!).ToListAsync()).ToHashSet(StringComparer.Ordinal);
        var lost = acknowledged.Where(id => !stored.Contains(id)).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} of {acknowledged.Count} acknowledged messages were lost, e.g. {lost.FirstOrDefault()}");

        // Attachments: each acknowledged one is there with its content; no content is left without a message
        // (a batch cut by the kill takes its content with it); every content matches its hash.
        var filed = await (from m in db.Messages
                           join a in db.Attachments on m.Id equals a.MessageId
                           join c in db.AttachmentContents on a.Sha256 equals c.Sha256
                           select m.MessageIdHeader!).ToListAsync();
        Assert.Empty(withAttachment.Except(filed));
        Assert.Equal(0, await db.Attachments.CountAsync(a => !db.AttachmentContents.Any(c => c.Sha256 == a.Sha256)));
        Assert.Equal(0, await db.AttachmentContents.CountAsync(c => !db.Attachments.Any(a => a.Sha256 == c.Sha256)));
        var contents = await db.AttachmentContents.Select(c => new { c.Sha256, c.Bytes }).ToListAsync();
        Assert.All(contents, c => Assert.Equal(c.Sha256, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(c.Bytes))));
        Assert.Equal(shared.Length, contents.Count(c => System.Text.Encoding.UTF8.GetString(c.Bytes).StartsWith("shared content ")));
        Assert.False(Directory.Exists(Path.Combine(app.DataDirectory, "attachments")));
        Assert.Empty(Directory.GetFiles(app.DataDirectory, "*.tmp", SearchOption.AllDirectories));
    }
}
