using System.Collections.Immutable;
using Bunit;
using ConnectiveOne.Console.Features.Inbox;
using ConnectiveOne.Console.State.Inbox;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.TestSupport;

namespace ConnectiveOne.Tests.Console.Inbox;

[Trait("Database", "Unused")] // touches no database: runs in the SQLite pass only
public sealed class TicketListTests : MudTestContext
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-11-27T12:00:00Z");

    private static TicketSummary Ticket(long id, string subject, TimeSpan age, string status = "Open", string? name = null) =>
        new(id, id, subject, status, Guid.NewGuid(), $"c{id}@customer.test", name, null, 2, Now - age);

    private static InboxState State(params TicketSummary[] tickets) =>
        new InboxFeature().Initial with { Tickets = [.. tickets], Total = tickets.Length };

    [Fact]
    public void Rows_show_customer_subject_time_status_unread_cursor_and_who_is_there()
    {
        var state = State(
                Ticket(3, "Printer on fire", TimeSpan.FromSeconds(10), name: "Carla"),
                Ticket(2, "Invoice", TimeSpan.FromHours(3), "Pending"),
                Ticket(1, "", TimeSpan.FromDays(3), "Resolved")) with
            {
                Unread = [3],
                Cursor = 1,
                SelectedId = 2,
                Presence = ImmutableDictionary<long, ImmutableList<Viewer>>.Empty
                    .Add(3, [new Viewer("ann", "ann@example.test", Typing: true), new Viewer("me", "me@example.test", false)]),
            };
        var list = Render<TicketList>(p => p.Add(c => c.State, state).Add(c => c.CurrentUserId, "me").Add(c => c.Now, Now));

        var rows = list.FindAll("[data-testid='ticket-row']");
        Assert.Equal(3, rows.Count);
        Assert.Contains("Carla", rows[0].TextContent);
        Assert.Contains("now", rows[0].TextContent);
        Assert.Contains("c1-unread", rows[0].ClassName);
        Assert.Contains("ann", rows[0].QuerySelector(".c1-viewers")!.TextContent);
        Assert.DoesNotContain("me", rows[0].QuerySelector(".c1-viewers")!.TextContent.Split(',').Select(s => s.Trim()));
        Assert.Contains("c1-cursor", rows[1].ClassName);
        Assert.Contains("c1-selected", rows[1].ClassName);
        Assert.Contains("Pending", rows[1].TextContent);
        Assert.DoesNotContain("c1-unread", rows[1].ClassName);
        Assert.Contains("(no subject)", rows[2].TextContent);
        Assert.Equal("/inbox/1", rows[2].GetAttribute("href"));
    }

    [Fact]
    public void Rows_show_preview_bot_assignee_attachment_and_who_answered_last()
    {
        var bot = Guid.NewGuid();
        var state = State(
                Ticket(2, "Broken hinge", TimeSpan.FromMinutes(5)) with
                {
                    BotId = bot, AssigneeId = "u1", Preview = "The hinge broke after two days", HasAttachments = true, LastDirection = "Inbound",
                },
                Ticket(1, "Thanks", TimeSpan.FromDays(2)) with { AssigneeId = "me", LastDirection = "Outbound" }) with
            {
                Bots = [new BotOption(bot, "Support")],
                Assignees = ImmutableDictionary<string, string>.Empty.Add("u1", "Dana Whitfield").Add("me", "Me Myself"),
            };
        var list = Render<TicketList>(p => p.Add(c => c.State, state).Add(c => c.CurrentUserId, "me").Add(c => c.Now, Now));

        var rows = list.FindAll("[data-testid='ticket-row']");
        Assert.Equal("The hinge broke after two days", rows[0].QuerySelector("[data-testid='row-preview']")!.TextContent);
        Assert.Equal("Support", rows[0].QuerySelector("[data-testid='row-bot']")!.TextContent);
        Assert.Equal("DW", rows[0].QuerySelector("[data-testid='row-assignee']")!.TextContent);
        Assert.NotNull(rows[0].QuerySelector("[data-testid='row-attachment']"));
        Assert.Equal("customer", rows[0].QuerySelector("[data-testid='row-last']")!.GetAttribute("data-last"));
        Assert.Equal("5 min", rows[0].QuerySelector("[data-testid='row-time']")!.TextContent);
        Assert.Equal("Broken hinge", rows[0].GetAttribute("title"));
        Assert.Equal("us", rows[1].QuerySelector("[data-testid='row-last']")!.GetAttribute("data-last"));
        Assert.Contains("you", rows[1].QuerySelector("[data-testid='row-assignee']")!.GetAttribute("title"));
        Assert.Null(rows[1].QuerySelector("[data-testid='row-attachment']"));
        Assert.Null(rows[1].QuerySelector("[data-testid='row-preview']"));
    }

    [Fact]
    public void An_empty_list_says_why_and_what_to_do()
    {
        var empty = Render<TicketList>(p => p.Add(c => c.State, State()));
        Assert.Contains("No open tickets", empty.Find("[data-testid='inbox-empty']").TextContent);

        var all = Render<TicketList>(p => p.Add(c => c.State, State() with { Filter = new InboxFilter(Status: null) }));
        Assert.Contains("No tickets here", all.Find("[data-testid='inbox-empty']").TextContent);
        Assert.Contains("Setup", all.Markup);

        // "Assigned to me" says what gets a ticket there and how to see everyone's.
        var mine = Render<TicketList>(p => p.Add(c => c.State, State() with { Filter = new InboxFilter(Mine: true) }));
        Assert.Contains("Nothing assigned to you", mine.Find("[data-testid='inbox-empty']").TextContent);
        Assert.Contains("Switch off \"Assigned to me\"", mine.Markup);

        var searched = Render<TicketList>(p => p.Add(c => c.State, State() with { Filter = new InboxFilter(Query: "zebra") }));
        Assert.Contains("No tickets match", searched.Markup);
    }
}
