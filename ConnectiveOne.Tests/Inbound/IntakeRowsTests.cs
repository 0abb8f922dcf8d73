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
