using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Notifications;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using MimeKit;

namespace ConnectiveOne.Tests.Tickets;

/// <summary>
/// Snooze in Core (issue #16): the wake worker opens due tickets with an event and the assignee's notification, also those
/// that came due while no worker ran, and a ticket whose wake fails is recorded as failed in words while the others wake;
/// a customer's answer through the real SMTP listener ends a snooze at once (an auto-reply does not).
/// </summary>
public sealed class SnoozeTests
{
    [Fact]
    public async Task A_node_that_starts_after_the_snooze_time_wakes_the_due_tickets_and_records_a_failing_one_in_words()
    {
        // The first node snoozes with the real clock; the second starts with its clock a day later (the app was down
        // meanwhile) and its worker finds the snoozes due in the database.
        await using var first = new TestApp(settings: new Dictionary<string, string?> { ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain });
        var address = await MailSeed.AddressAsync(first, "support@acme.test", DomainStatus.Pending);
        await first.CreateUserWithTokenAsync("ann@acme.test", "Operator");
        var annId = await ReadAsync(first, db => db.Users.Where(u => u.Email == "ann@acme.test").Select(u => u.Id).SingleAsync());
        var failing = (await MailSeed.TicketAsync(first, address, "Fails to wake")).Ticket.Id;
        var waking = (await MailSeed.TicketAsync(first, address, "Wakes up")).Ticket.Id;
        var later = (await MailSeed.TicketAsync(first, address, "Not yet")).Ticket.Id;
        var now = DateTimeOffset.UtcNow;
        await using (var scope = first.Services.CreateAsyncScope())
        {
            var commands = scope.ServiceProvider.GetRequiredService<TicketCommands>();
            Assert.Equal(TicketChangeResult.Done, await commands.UpdateAsync(waking, TicketStatus.Pending, annId));
            Assert.Equal(TicketChangeResult.Done, await commands.SnoozeAsync(failing, now.AddHours(1), annId));
            Assert.Equal(TicketChangeResult.Done, await commands.SnoozeAsync(waking, now.AddHours(2), annId));
            Assert.Equal(TicketChangeResult.Done, await commands.SnoozeAsync(later, now.AddDays(3), annId));
        }
        // The database refuses the event of the first ticket's wake: its transaction fails as a real write would.
        await FailEventsOfAsync(first, failing);

        var clock = new FakeTimeProvider(now.AddDays(1));
        await using var second = new TestApp(settings: new Dictionary<string, string?> { ["ConnectiveOne:Tickets:SnoozeCheckInterval"] = "00:00:00.2" },
            shareWith: first) { TestServices = services => services.AddSingleton<TimeProvider>(clock) };
        _ = second.Services; // starts it, and its worker

        var woken = await MailSeed.WaitForAsync(second, db => db.Tickets.AsNoTracking().FirstOrDefaultAsync(t => t.Id == waking), t => t.SnoozedUntil is null);
        Assert.Equal(TicketStatus.Open, woken.Status);
        var failed = await MailSeed.WaitForAsync(second, db => db.Tickets.AsNoTracking().FirstOrDefaultAsync(t => t.Id == failing), t => t.SnoozeFailure is not null);
        Assert.Contains("could not be opened again", failed.SnoozeFailure);
        Assert.Contains("no wake event here", failed.SnoozeFailure); // the database's own words
        Assert.NotNull(failed.SnoozedUntil);
        Assert.Equal(TicketStatus.Open, failed.Status);
        var notYet = await ReadAsync(second, db => db.Tickets.AsNoTracking().SingleAsync(t => t.Id == later));
        Assert.NotNull(notYet.SnoozedUntil);

        var events = await ReadAsync(second, db => db.TicketEvents.AsNoTracking().Where(e => e.TicketId == waking).OrderBy(e => e.Id).ToListAsync());
        Assert.Equal([TicketEventKind.StatusChanged, TicketEventKind.Assigned, TicketEventKind.Snoozed, TicketEventKind.SnoozeEnded], events.Select(e => e.Kind));
        Assert.StartsWith("snoozed until ", events[2].Detail);
        Assert.Equal("snooze ended: the ticket is open again (it was Pending)", events[3].Detail);
        Assert.Null(events[3].ActorUserId);
        var told = await ReadAsync(second, db => db.Notifications.AsNoTracking().Where(n => n.UserId == annId && n.Kind == NotificationKind.SnoozeEnded).ToListAsync());
        Assert.Equal([waking], told.Select(n => n.TicketId));
        Assert.Equal($"#{waking} is back from snooze: Wakes up", told[0].Text);

        // The failed one stays failed (no retry storm) until someone snoozes it again; the later one wakes when its time comes.
        clock.Advance(TimeSpan.FromDays(3));
        await MailSeed.WaitForAsync(second, db => db.Tickets.AsNoTracking().FirstOrDefaultAsync(t => t.Id == later), t => t.SnoozedUntil is null);
        Assert.Equal(failed.SnoozeFailure, (await ReadAsync(second, db => db.Tickets.AsNoTracking().SingleAsync(t => t.Id == failing))).SnoozeFailure);
    }

    [Fact]
    public async Task A_customer_answer_through_SMTP_ends_the_snooze_at_once_and_an_auto_reply_does_not()
    {
        await using var inbound = new InboundApp();
        var address = await InboundAddresses.AddAsync(inbound.App.Services, "snooze@acme.test");
        var first = Mail("ida@customer.test", "Where is my parcel", "m1");
        await inbound.SendAsync(first, address.TechnicalAddress);
        var ticket = await MailSeed.WaitForAsync(inbound.App, db => db.Tickets.AsNoTracking().FirstOrDefaultAsync(t => t.AddressId == address.Id), _ => true);
        await using (var scope = inbound.App.Services.CreateAsyncScope())
            Assert.Equal(TicketChangeResult.Done, await scope.ServiceProvider.GetRequiredService<TicketCommands>()
                .SnoozeAsync(ticket.Id, DateTimeOffset.UtcNow.AddDays(2), null, TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin")));

        // An out-of-office answer is no answer: the ticket sleeps on.
        var away = Mail("ida@customer.test", "Re: Where is my parcel", "m2", first.MessageId);
        away.Headers.Add("Auto-Submitted", "auto-replied");
        await inbound.SendAsync(away, address.TechnicalAddress);
        await MailSeed.WaitForAsync(inbound.App, db => db.Tickets.AsNoTracking().FirstOrDefaultAsync(t => t.Id == ticket.Id), t => t.MessageCount == 2);
        Assert.NotNull((await ReadAsync(inbound.App, db => db.Tickets.AsNoTracking().SingleAsync(t => t.Id == ticket.Id))).SnoozedUntil);

        await inbound.SendAsync(Mail("ida@customer.test", "Re: Where is my parcel", "m3", first.MessageId), address.TechnicalAddress);

        // SendAsync returns after the listener's 250, which intake gives once the batch committed: no waiting needed.
        var answered = await ReadAsync(inbound.App, db => db.Tickets.AsNoTracking().SingleAsync(t => t.Id == ticket.Id));
        Assert.Equal(3, answered.MessageCount);
        Assert.Null(answered.SnoozedUntil);
        Assert.Equal(TicketStatus.Open, answered.Status);
        var events = await ReadAsync(inbound.App, db => db.TicketEvents.AsNoTracking().Where(e => e.TicketId == ticket.Id).OrderBy(e => e.Id).ToListAsync());
        Assert.Equal([TicketEventKind.Snoozed, TicketEventKind.SnoozeEnded], events.Select(e => e.Kind));
        Assert.Contains("(Europe/Berlin)", events[0].Detail);
        Assert.Equal("snooze ended: the customer answered", events[1].Detail);
    }

    private static MimeMessage Mail(string from, string subject, string id, string? inReplyTo = null)
    {
        var m = new MimeMessage();
        m.From.Add(MailboxAddress.Parse(from));
        m.To.Add(MailboxAddress.Parse("snooze@acme.test"));
        m.Subject = subject;
        m.MessageId = $"{id}.{Guid.NewGuid():N}@customer.test";
        if (inReplyTo is not null)
        {
            m.InReplyTo = inReplyTo;
            m.References.Add(inReplyTo);
        }
        m.Body = new TextPart("plain") { Text = "Any news?" };
        return m;
    }

    // A trigger that refuses TicketEvents rows of one ticket, in the words the test looks for.
    private static async Task FailEventsOfAsync(TestApp app, long ticketId)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        // The id is a number the test made, so it goes into the trigger's text as it is (a trigger takes no parameters).
        var sql = db.Database.IsNpgsql()
            ? $$"""
                CREATE FUNCTION refuse_wake() RETURNS trigger AS $$
                BEGIN
                    IF NEW."TicketId" = {{ticketId}} THEN RAISE EXCEPTION 'no wake event here'; END IF;
                    RETURN NEW;
                END $$ LANGUAGE plpgsql;
                CREATE TRIGGER refuse_wake BEFORE INSERT ON "TicketEvents" FOR EACH ROW EXECUTE FUNCTION refuse_wake();
                """
            : $"""
                CREATE TRIGGER refuse_wake BEFORE INSERT ON TicketEvents WHEN NEW.TicketId = {ticketId}
                BEGIN SELECT RAISE(ABORT, 'no wake event here'); END;
                """;
        await db.Database.ExecuteSqlRawAsync(sql);
    }

    private static async Task<T> ReadAsync<T>(TestApp app, Func<AppDbContext, Task<T>> read)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await read(scope.ServiceProvider.GetRequiredService<AppDbContext>());
    }
}
