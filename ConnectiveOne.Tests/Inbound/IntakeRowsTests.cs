using System.Security.Cryptography;
using System.Text;
using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Inbound.Intake;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;

namespace ConnectiveOne.Tests.Inbound;

/// <summary>
/// The intake writer inserts and updates with its own commands (built from EF's model) and answers threading from a
/// per-batch prefetch: the rows must be exactly those EF writes, and batches must thread as one message at a time did.
/// </summary>
public sealed class IntakeRowsTests : IAsyncLifetime
{
    private readonly InboundApp _inbound = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _inbound.DisposeAsync();

    [Fact]
    public async Task Intake_writes_the_same_rows_that_EF_writes_for_the_same_values()
    {
        var address = await InboundAddresses.AddAsync(_inbound.App.Services, "rows@acme.test");
        var recipient = new InboundAddress(address.Id, address.Email, address.TechnicalAddress);
        var intake = _inbound.App.Services.GetRequiredService<InboundIntake>();

        var first = new MimeMessage();
        first.From.Add(new MailboxAddress("Jo Row", "jo@customer.test"));
        first.To.Add(MailboxAddress.Parse("rows@acme.test"));
        first.Cc.Add(MailboxAddress.Parse("kim@customer.test"));
        first.Subject = "Rows and columns";
        first.MessageId = $"first.{Guid.NewGuid():N}@customer.test";
        first.Date = new DateTimeOffset(2026, 11, 20, 9, 30, 0, TimeSpan.FromHours(2));
        var body = new BodyBuilder { TextBody = "Text part." };
        body.Attachments.Add("data.csv", Encoding.UTF8.GetBytes("a,b\n1,2\n"), new ContentType("text", "csv"));
        var logo = body.LinkedResources.Add("logo.png", [1, 2, 3, 4], new ContentType("image", "png"));
        logo.ContentId = "logo@customer.test";
        body.HtmlBody = "<p>Look: <img src=\"cid:logo@customer.test\"></p>";
        first.Body = body.ToMessageBody();
        await intake.AcceptAsync(Bytes(first), [recipient], "jo@customer.test", "test", CancellationToken.None);

        await using (var scope = _inbound.App.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            (await db.Tickets.SingleAsync(t => t.AddressId == address.Id)).Status = TicketStatus.Resolved;
            await db.SaveChangesAsync();
        }
        var reply = new MimeMessage();
        reply.From.Add(MailboxAddress.Parse("jo@customer.test"));
        reply.To.Add(MailboxAddress.Parse("rows@acme.test"));
        reply.Subject = "Re: Rows and columns";
        reply.InReplyTo = first.MessageId;
        reply.References.Add(first.MessageId);
        reply.Body = new TextPart("plain") { Text = "Still there." };
        await intake.AcceptAsync(Bytes(reply), [recipient], "jo@customer.test", "test", CancellationToken.None);

        await using var check = _inbound.App.Services.CreateAsyncScope();
        var ef = check.ServiceProvider.GetRequiredService<AppDbContext>();
        var ticket = await ef.Tickets.AsNoTracking().SingleAsync(t => t.AddressId == address.Id);
        var messages = await ef.Messages.AsNoTracking().Include(m => m.Raw).Include(m => m.Attachments)
            .Where(m => m.TicketId == ticket.Id).OrderBy(m => m.Id).ToListAsync();
        var storedAddress = await ef.Addresses.AsNoTracking().SingleAsync(a => a.Id == address.Id);
        // What intake did, read back through EF: reopened, both messages, the inline image pointing at its attachment.
        Assert.Equal((TicketStatus.Open, 2), (ticket.Status, ticket.MessageCount));
        Assert.Equal(2, messages[0].Attachments.Count);
        var inline = messages[0].Attachments.Single(a => a.IsInline);
        Assert.Contains($"/files/attachments/{inline.Id}", messages[0].Html);
        Assert.Equal(ForwardingStatus.Receiving, storedAddress.Forwarding);

        // The same values written by EF's SaveChanges, then both rows compared column by column as stored.
        var ticketCopy = Copy(ef, ticket, new Ticket { Subject = "", SubjectKey = "", CustomerEmail = "", ThreadToken = "" });
        ticketCopy.Id = 0;
        var messageCopies = messages.Select(m =>
        {
            var copy = Copy(ef, m, new TicketMessage { DedupKey = "", FromAddress = "" });
            copy.Id = 0;
            copy.Ticket = ticketCopy;
            copy.DedupKey = m.DedupKey + "-ef";
            copy.Raw = new RawMessage { Bytes = m.Raw!.Bytes };
            copy.Attachments = m.Attachments.Select(a =>
            {
                var attachment = Copy(ef, a, new MessageAttachment { FileName = "", ContentType = "", Sha256 = "" });
                attachment.Id = 0;
                attachment.MessageId = 0;
                return attachment;
            }).ToList();
            return copy;
        }).ToList();
        var addressCopy = Copy(ef, storedAddress, new CorporateAddress { Email = "", NormalizedEmail = "", Domain = "", TechnicalAddress = "" });
        addressCopy.Id = Guid.NewGuid();
        addressCopy.Email = addressCopy.NormalizedEmail = "rows-copy@acme.test";
        addressCopy.TechnicalAddress = "rows-copy@inbound.localhost";
        ef.Tickets.Add(ticketCopy);
        ef.Messages.AddRange(messageCopies);
        ef.Addresses.Add(addressCopy);
        await ef.SaveChangesAsync();

        await AssertSameRowAsync<Ticket>(ef, ticket.Id, ticketCopy.Id, nameof(Ticket.Id));
        for (var i = 0; i < messages.Count; i++)
        {
            await AssertSameRowAsync<TicketMessage>(ef, messages[i].Id, messageCopies[i].Id,
                nameof(TicketMessage.Id), nameof(TicketMessage.TicketId), nameof(TicketMessage.DedupKey));
            await AssertSameRowAsync<RawMessage>(ef, messages[i].Id, messageCopies[i].Id, nameof(RawMessage.MessageId));
            for (var j = 0; j < messages[i].Attachments.Count; j++)
                await AssertSameRowAsync<MessageAttachment>(ef, messages[i].Attachments[j].Id, messageCopies[i].Attachments[j].Id,
                    nameof(MessageAttachment.Id), nameof(MessageAttachment.MessageId));
        }
        await AssertSameRowAsync<CorporateAddress>(ef, storedAddress.Id, addressCopy.Id, nameof(CorporateAddress.Id),
            nameof(CorporateAddress.Email), nameof(CorporateAddress.NormalizedEmail), nameof(CorporateAddress.TechnicalAddress));
    }

    [Fact]
    public async Task A_large_message_through_its_spool_file_writes_the_same_rows_as_through_memory()
    {
        var services = _inbound.App.Services;
        var spooled = await InboundAddresses.AddAsync(services, "spooled@acme.test");
        var spooledAgain = await InboundAddresses.AddAsync(services, "spooled-again@acme.test");
        var inMemory = await InboundAddresses.AddAsync(services, "in-memory@acme.test");

        // Over 1 MB, so SMTP takes it through a spool file (IntakeMessageStore.SpoolAboveBytes); intake called with the
        // bytes keeps it in memory. Text, HTML with an inline image, a large attachment and an attached message; no
        // Message-ID, so the dedup key is the hash of the raw bytes, read from the file on one side.
        var file = RandomNumberGenerator.GetBytes(1_500_000);
        var body = new BodyBuilder { TextBody = "The large file is attached." };
        body.Attachments.Add("large.bin", file, new ContentType("application", "octet-stream"));
        var logo = body.LinkedResources.Add("logo.png", RandomNumberGenerator.GetBytes(2_000), new ContentType("image", "png"));
        logo.ContentId = "logo@customer.test";
        body.HtmlBody = "<p>Our logo: <img src=\"cid:logo@customer.test\"></p>";
        var forwarded = new MimeMessage();
        forwarded.From.Add(MailboxAddress.Parse("earlier@customer.test"));
        forwarded.Subject = "The earlier mail";
        forwarded.Body = new TextPart("plain") { Text = "Forwarded as an attachment." };
        body.Attachments.Add(new MessagePart { Message = forwarded, ContentDisposition = new ContentDisposition(ContentDisposition.Attachment) });
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Lara Large", "lara@customer.test"));
        message.To.Add(MailboxAddress.Parse("support@acme.test"));
        message.Subject = "A large file";
        message.Body = body.ToMessageBody();
        using var sent = new MemoryStream();
        message.WriteTo(new FormatOptions { NewLineFormat = NewLineFormat.Dos }, sent);
        sent.Write("\r\n"u8); // SMTP data ends with a line end; the in-memory copy must be the same bytes
        var raw = sent.ToArray();

        // By SMTP first (the attachment's content is written from its file), then in memory (the content is found
        // stored), then by SMTP again (found stored, from the file side).
        var smtp = await _inbound.SmtpEndpointAsync();
        Assert.Equal(250, (await SendRawAsync(smtp, spooled.TechnicalAddress, raw)).Code);
        var intake = services.GetRequiredService<InboundIntake>();
        await intake.AcceptAsync(raw, [new InboundAddress(inMemory.Id, inMemory.Email, inMemory.TechnicalAddress)], "sender@example.org", "test",
            CancellationToken.None);
        Assert.Equal(250, (await SendRawAsync(smtp, spooledAgain.TechnicalAddress, raw)).Code);

        // The spool was used, and its files are gone once the message is stored.
        var spool = Path.Combine(_inbound.App.DataDirectory, "spool");
        Assert.True(Directory.Exists(spool), "SMTP did not spool the message");
        Assert.Empty(Directory.EnumerateFiles(spool));

        await using var check = services.CreateAsyncScope();
        var ef = check.ServiceProvider.GetRequiredService<AppDbContext>();
        async Task<TicketMessage> StoredAtAsync(Guid addressId) =>
            await ef.Messages.AsNoTracking().Include(m => m.Raw).Include(m => m.Attachments).SingleAsync(m => m.AddressId == addressId);
        var expected = await StoredAtAsync(inMemory.Id);
        Assert.Equal(raw, expected.Raw!.Bytes);
        Assert.Equal(3, expected.Attachments.Count);
        foreach (var actual in new[] { await StoredAtAsync(spooled.Id), await StoredAtAsync(spooledAgain.Id) })
        {
            // Inline images point at attachment ids, which differ; the rest of every row is the same.
            await AssertSameRowAsync<TicketMessage>(ef, actual.Id, expected.Id, nameof(TicketMessage.Id), nameof(TicketMessage.TicketId),
                nameof(TicketMessage.AddressId), nameof(TicketMessage.ReceivedAt), nameof(TicketMessage.Html));
            Assert.Equal(expected.Html!.Replace($"/files/attachments/{expected.Attachments.Single(a => a.IsInline).Id}", ""),
                actual.Html!.Replace($"/files/attachments/{actual.Attachments.Single(a => a.IsInline).Id}", ""));
            await AssertSameRowAsync<RawMessage>(ef, actual.Id, expected.Id, nameof(RawMessage.MessageId));
            var attachments = actual.Attachments.OrderBy(a => a.Id).ToList();
            Assert.Equal(expected.Attachments.Count, attachments.Count);
            foreach (var (a, e) in attachments.Zip(expected.Attachments.OrderBy(a => a.Id)))
                await AssertSameRowAsync<MessageAttachment>(ef, a.Id, e.Id, nameof(MessageAttachment.Id), nameof(MessageAttachment.MessageId));
        }
        // Each content once, and what the spooled message wrote is the file itself.
        foreach (var attachment in expected.Attachments)
            Assert.Equal(1, await ef.AttachmentContents.CountAsync(c => c.Sha256 == attachment.Sha256));
        var large = expected.Attachments.Single(a => a.FileName == "large.bin");
        Assert.Equal(file, (await ef.AttachmentContents.SingleAsync(c => c.Sha256 == large.Sha256)).Bytes);
    }

    /// <summary>One SMTP transaction with exactly these bytes as the data (they hold no line starting with a dot).</summary>
    private static async Task<Reliability.SmtpReply> SendRawAsync(System.Net.IPEndPoint smtp, string recipient, byte[] raw)
    {
        using var client = await Reliability.RawSmtpClient.OpenAsync(smtp);
        Assert.Equal(250, (await client.CommandAsync("MAIL FROM:<sender@example.org>"))?.Code);
        Assert.Equal(250, (await client.CommandAsync($"RCPT TO:<{recipient}>"))?.Code);
        Assert.Equal(354, (await client.CommandAsync("DATA"))?.Code);
        await client.SendAsync(Encoding.Latin1.GetString(raw) + ".\r\n");
        return await client.ReadReplyAsync() ?? throw new IOException("The server closed the connection.");
    }

    [Fact]
    public async Task A_batch_of_replies_finds_stored_tickets_by_message_id_and_by_sender_and_subject()
    {
        var address = await InboundAddresses.AddAsync(_inbound.App.Services, "prefetch@acme.test");
        var recipient = new InboundAddress(address.Id, address.Email, address.TechnicalAddress);
        var intake = _inbound.App.Services.GetRequiredService<InboundIntake>();
        // With a real envelope sender: mail from <> counts as a bounce, and automatic mail never reopens a ticket.
        Task<IntakeResult> Accept(MimeMessage m) => intake.AcceptAsync(Bytes(m), [recipient], m.From.Mailboxes.Single().Address, "test", CancellationToken.None);

        // Six conversations stored one by one; the first two resolved since.
        var openers = Enumerable.Range(0, 6).Select(i => Mail($"p{i}@customer.test", $"Question {i}")).ToList();
        foreach (var opener in openers)
            await Accept(opener);
        await using (var scope = _inbound.App.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            foreach (var t in await db.Tickets.Where(t => t.AddressId == address.Id && (t.CustomerEmail == "p0@customer.test" || t.CustomerEmail == "p1@customer.test")).ToListAsync())
                t.Status = TicketStatus.Resolved;
            await db.SaveChangesAsync();
        }

        // Queued together, so they share group commits: even ones reply by Message-ID (from a colleague, so only the
        // id can join them), odd ones by sender and subject only; conversation 2 gets two replies; a new conversation
        // starts and is followed up in the same batch.
        var batch = new List<MimeMessage>();
        for (var i = 0; i < openers.Count; i++)
        {
            var answer = i % 2 == 0 ? Mail("colleague@customer.test", $"Re: Question {i}", openers[i]) : Mail($"p{i}@customer.test", $"RE: Question {i}");
            batch.Add(answer);
        }
        batch.Add(Mail("p2@customer.test", "Re: Question 2", batch[2]));
        var fresh = Mail("new@customer.test", "Brand new");
        batch.Add(fresh);
        batch.Add(Mail("new@customer.test", "Re: Brand new"));
        var results = await Task.WhenAll(batch.Select(Accept));
        Assert.All(results, r => Assert.Equal(IntakeOutcome.Stored, r.Deliveries.Single().Outcome));

        await using var check = _inbound.App.Services.CreateAsyncScope();
        var ef = check.ServiceProvider.GetRequiredService<AppDbContext>();
        var tickets = await ef.Tickets.AsNoTracking().Where(t => t.AddressId == address.Id).ToDictionaryAsync(t => t.CustomerEmail);
        Assert.Equal(7, tickets.Count);
        for (var i = 0; i < openers.Count; i++)
        {
            var ticket = tickets[$"p{i}@customer.test"];
            Assert.Equal(i == 2 ? 3 : 2, ticket.MessageCount);
            Assert.Equal(TicketStatus.Open, ticket.Status); // the first two were reopened
            Assert.Equal(ticket.MessageCount, await ef.Messages.CountAsync(m => m.TicketId == ticket.Id));
            Assert.Equal(await ef.Messages.Where(m => m.TicketId == ticket.Id).MaxAsync(m => m.ReceivedAt), ticket.LastMessageAt);
        }
        Assert.Equal(2, tickets["new@customer.test"].MessageCount);
        var byTicket = results.Select(r => r.Deliveries.Single().TicketId).ToList();
        Assert.Equal(byTicket[^2], byTicket[^1]);
    }

    private static MimeMessage Mail(string from, string subject, MimeMessage? inReplyTo = null)
    {
        var m = new MimeMessage();
        m.From.Add(MailboxAddress.Parse(from));
        m.To.Add(MailboxAddress.Parse("prefetch@acme.test"));
        m.Subject = subject;
        m.MessageId = $"{Guid.NewGuid():N}@customer.test";
        if (inReplyTo is not null)
        {
            m.InReplyTo = inReplyTo.MessageId;
            m.References.Add(inReplyTo.MessageId!);
        }
        m.Body = new TextPart("plain") { Text = subject };
        return m;
    }

    private static byte[] Bytes(MimeMessage message)
    {
        using var stream = new MemoryStream();
        message.WriteTo(stream);
        return stream.ToArray();
    }

    private static T Copy<T>(AppDbContext db, T source, T target) where T : class
    {
        db.Entry(target).CurrentValues.SetValues(source);
        return target;
    }

    // Both rows as the database holds them (provider types, not what EF turns them back into).
    private static async Task AssertSameRowAsync<T>(AppDbContext db, object intakeKey, object efKey, params string[] except)
    {
        var type = db.Model.FindEntityType(typeof(T))!;
        var skip = except.Select(p => type.FindProperty(p)!.GetColumnName()).ToHashSet();
        var ours = await RowAsync(db, type, intakeKey);
        var theirs = await RowAsync(db, type, efKey);
        Assert.Equal(theirs.Keys.Order(), ours.Keys.Order());
        foreach (var (column, expected) in theirs.Where(c => !skip.Contains(c.Key)))
        {
            var actual = ours[column];
            var same = expected is byte[] a && actual is byte[] b ? a.AsSpan().SequenceEqual(b) : Equals(expected, actual);
            Assert.True(same, $"{type.GetTableName()}.{column}: intake wrote {Show(actual)}, EF writes {Show(expected)}");
        }
    }

    private static string Show(object? value) => value is null ? "NULL" : $"{value.GetType().Name} {value}";

    private static async Task<Dictionary<string, object?>> RowAsync(AppDbContext db, Microsoft.EntityFrameworkCore.Metadata.IEntityType type, object key)
    {
        var sql = db.GetService<ISqlGenerationHelper>();
        var keyProperty = type.FindPrimaryKey()!.Properties.Single();
        await db.Database.OpenConnectionAsync();
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = $"SELECT * FROM {sql.DelimitIdentifier(type.GetTableName()!, type.GetSchema())} "
            + $"WHERE {sql.DelimitIdentifier(keyProperty.GetColumnName())} = {sql.GenerateParameterNamePlaceholder("k")}";
        command.Parameters.Add(keyProperty.GetRelationalTypeMapping().CreateParameter(command, sql.GenerateParameterName("k"), key));
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"No {type.GetTableName()} row {key}");
        return Enumerable.Range(0, reader.FieldCount).ToDictionary(reader.GetName, i => reader.IsDBNull(i) ? null : reader.GetValue(i));
    }
}
