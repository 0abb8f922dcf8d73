using System.Collections.Immutable;
using ConnectiveOne.Core.Tickets;

namespace ConnectiveOne.Console.State.Inbox;

/// <summary>What the list shows: a status (null = all), one bot, only mine, and a search text.</summary>
public sealed record InboxFilter(TicketStatus? Status = TicketStatus.Open, Guid? BotId = null, bool Mine = false, string? Query = null)
{
    /// <summary>The Snoozed tab: only snoozed tickets (the status tabs leave them out; All shows them with the rest).</summary>
    public bool Snoozed { get; init; }
}

/// <summary>
/// The operator inbox of one circuit: the current page of tickets, the selection and keyboard cursor,
/// unread marks, counts per status, and who is viewing or typing on which ticket.
/// </summary>
public sealed record InboxState(
    InboxFilter Filter,
    ImmutableList<TicketSummary> Tickets,
    int Total,
    int Page,
    bool Loading,
    long? SelectedId,
    int Cursor,
    ImmutableHashSet<long> Unread,
    StatusCounts Counts,
    ImmutableDictionary<long, ImmutableList<Viewer>> Presence,
    bool Active)
{
    public const int PageSize = 50;

    public int Pages => Math.Max(1, (Total + PageSize - 1) / PageSize);

    public ImmutableList<Viewer> ViewersOf(long ticketId) => Presence.GetValueOrDefault(ticketId, []);

    /// <summary>Words for the list's error state when its last load failed.</summary>
    public string? LoadError { get; init; }

    /// <summary>The bots the list can be filtered by (not positional, so existing constructions stay valid).</summary>
    public ImmutableList<BotOption> Bots { get; init; } = [];

    /// <summary>Names of the users a ticket can be assigned to, by user id (the rows' assignee avatars).</summary>
    public ImmutableDictionary<string, string> Assignees { get; init; } = ImmutableDictionary<string, string>.Empty;
}

/// <summary>The inbox page opened (loads and follows changes) or closed (stops following).</summary>
public sealed record InboxOpened;
public sealed record InboxClosed;
public sealed record InboxFilterChanged(InboxFilter Filter);
public sealed record InboxPageChanged(int Page);
/// <summary>Something changed in the tickets (an event); the list and counts reload.</summary>
public sealed record InboxRefreshRequested
{
    /// <summary>The notifier's <see cref="ConnectiveOne.Core.Events.ChangeNotifier.Sequence"/> when the change was heard: the reload must be at least that new.</summary>
    public long AtLeast { get; init; }
}
/// <summary>A loaded page; <see cref="Unread"/> is null on a reload after a change, which keeps the marks the state has.</summary>
public sealed record InboxLoaded(InboxFilter Filter, int Page, ImmutableList<TicketSummary> Tickets, int Total, ImmutableHashSet<long>? Unread);
public sealed record InboxLoadFailed(string Message);
public sealed record InboxCountsRequested;
public sealed record InboxCountsLoaded(StatusCounts Counts);
public sealed record TicketSelected(long? TicketId);
public sealed record CursorMoved(int Delta);
public sealed record TicketActivity(long TicketId);
public sealed record PresenceUpdated(long TicketId, ImmutableList<Viewer> Viewers);
/// <summary>Everyone on every ticket when the circuit connected, before the first <see cref="PresenceUpdated"/>.</summary>
public sealed record PresenceLoaded(ImmutableDictionary<long, ImmutableList<Viewer>> Viewers);
/// <summary>The bots to filter by, loaded with the inbox.</summary>
public sealed record InboxBotsLoaded(ImmutableList<BotOption> Bots);
public sealed record BotOption(Guid Id, string Name);
/// <summary>The assignable users' names, loaded with the inbox.</summary>
public sealed record InboxAssigneesLoaded(ImmutableDictionary<string, string> Names);

public sealed class InboxFeature : Feature<InboxState>
{
    public override InboxState Initial => new(new InboxFilter(), [], 0, 1, false, null, 0, [], new StatusCounts(0, 0, 0),
        ImmutableDictionary<long, ImmutableList<Viewer>>.Empty, false);

    public InboxFeature()
    {
        On<InboxOpened>((s, _) => s with { Active = true, Loading = true });
        On<InboxClosed>((s, _) => s with { Active = false, SelectedId = null });
        On<InboxFilterChanged>((s, a) => s with { Filter = a.Filter, Page = 1, Loading = true, Cursor = 0 });
        On<InboxPageChanged>((s, a) => s with { Page = Math.Clamp(a.Page, 1, s.Pages), Loading = true, Cursor = 0 });
        On<InboxLoaded>(Reduce);
        On<InboxLoadFailed>((s, a) => s with { Loading = false, LoadError = a.Message });
        On<InboxCountsLoaded>((s, a) => s with { Counts = a.Counts });
        On<TicketSelected>(Reduce);
        On<CursorMoved>((s, a) => s with { Cursor = s.Tickets.Count == 0 ? 0 : Math.Clamp(s.Cursor + a.Delta, 0, s.Tickets.Count - 1) });
        On<TicketActivity>((s, a) => a.TicketId == s.SelectedId ? s : s with { Unread = s.Unread.Add(a.TicketId) });
        // Events that came between subscribing and the snapshot were applied already: the snapshot is at least as new.
        On<PresenceLoaded>((s, a) => s with { Presence = a.Viewers });
        On<InboxBotsLoaded>((s, a) => s with { Bots = a.Bots });
        On<InboxAssigneesLoaded>((s, a) => s with { Assignees = a.Names });
        On<PresenceUpdated>((s, a) => s with
        {
            Presence = a.Viewers.IsEmpty ? s.Presence.Remove(a.TicketId) : s.Presence.SetItem(a.TicketId, a.Viewers),
        });
    }

    /// <summary>A late answer for an older filter or page is dropped; the cursor stays on the same ticket if it can.</summary>
    public static InboxState Reduce(InboxState state, InboxLoaded loaded)
    {
        if (loaded.Filter != state.Filter || loaded.Page != state.Page)
            return state;
        var cursorTicket = state.Cursor < state.Tickets.Count ? state.Tickets[state.Cursor].Id : (long?)null;
        var cursor = cursorTicket is { } id ? loaded.Tickets.FindIndex(t => t.Id == id) : -1;
        var marks = loaded.Unread ?? state.Unread;
        var unread = state.SelectedId is { } selected ? marks.Remove(selected) : marks;
        return state with
        {
            Tickets = loaded.Tickets,
            Total = loaded.Total,
            Loading = false,
            LoadError = null,
            Unread = unread,
            Cursor = cursor >= 0 ? cursor : Math.Min(state.Cursor, Math.Max(0, loaded.Tickets.Count - 1)),
        };
    }

    public static InboxState Reduce(InboxState state, TicketSelected selected)
    {
        var index = selected.TicketId is { } id ? state.Tickets.FindIndex(t => t.Id == id) : -1;
        return state with
        {
            SelectedId = selected.TicketId,
            Cursor = index >= 0 ? index : state.Cursor,
            Unread = selected.TicketId is { } seen ? state.Unread.Remove(seen) : state.Unread,
        };
    }
}
