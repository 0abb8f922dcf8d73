using System.Collections.Immutable;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Tickets;

namespace ConnectiveOne.Console.State.Ticket;

/// <summary>
/// The open ticket of one circuit: its header and the messages loaded so far (the last page when it opened, older
/// pages as the operator scrolls up, new ones appended as they arrive). <see cref="Early"/> holds messages that
/// arrived while the snapshot was loading, so none is lost between the query and the first render. <see cref="Refreshing"/>:
/// the snapshot loads while the ticket it will show is already on screen (the address followed a merge to its target).
/// </summary>
public sealed record TicketState(
    long? TicketId,
    TicketDetails? Ticket,
    ImmutableList<TicketMessageView> Messages,
    bool HasOlder,
    bool Missing,
    bool LoadingOlder,
    ImmutableList<TicketMessageView> Early,
    bool Refreshing = false)
{
    /// <summary>The ticket with the messages loaded so far, as the composer and the page show it.</summary>
    public TicketDetails? Shown => Ticket is null ? null : Ticket with { Messages = Messages, HasOlder = HasOlder };
}

/// <summary>A ticket view opened (loads its snapshot and follows its events) or closed.</summary>
public sealed record TicketOpened(long TicketId);
public sealed record TicketClosed(long TicketId);
/// <summary>The snapshot: header and last page; null ticket when there is no such ticket.</summary>
public sealed record TicketLoaded(long TicketId, TicketDetails? Ticket);
/// <summary>The operator asked for older messages (scrolled to the top or pressed the button).</summary>
public sealed record OlderMessagesRequested(long TicketId);
public sealed record OlderMessagesLoaded(long TicketId, long BeforeId, MessagePage Page);
/// <summary>A message added to the ticket, or one whose delivery changed: put in place by id.</summary>
public sealed record TicketMessageLoaded(long TicketId, TicketMessageView Message);
public sealed record TicketHeaderLoaded(long TicketId, TicketDetails Header);
/// <summary>The operator changed status or assignee here: the header reloads now rather than waiting for the event.</summary>
public sealed record TicketHeaderRequested(long TicketId);

public sealed class TicketFeature : Feature<TicketState>
{
    public override TicketState Initial => new(null, null, [], false, false, false, []);

    public TicketFeature()
    {
        // A merged number shows its target; when the address then follows to the target, the thread stays on screen
        // while its snapshot reloads, instead of blanking under the operator's pointer.
        On<TicketOpened>((s, a) => s.Ticket?.Id == a.TicketId && !s.Missing
            ? s with { TicketId = a.TicketId, Refreshing = true, Early = [] }
            : Initial with { TicketId = a.TicketId });
        On<TicketClosed>((s, a) => s.TicketId == a.TicketId ? Initial : s);
        On<TicketLoaded>(Reduce);
        On<OlderMessagesRequested>((s, a) => s.TicketId == a.TicketId && s.HasOlder ? s with { LoadingOlder = true } : s);
        On<OlderMessagesLoaded>(Reduce);
        On<TicketMessageLoaded>(Reduce);
        On<TicketHeaderLoaded>((s, a) => s.TicketId == a.TicketId && s.Ticket is not null ? s with { Ticket = a.Header } : s);
    }

    /// <summary>The snapshot, merged with what arrived while it loaded (by id: the query may or may not have seen it).</summary>
    public static TicketState Reduce(TicketState state, TicketLoaded loaded)
    {
        if (state.TicketId != loaded.TicketId)
            return state;
        if (loaded.Ticket is not { } ticket)
            return state with { Missing = true, Early = [], Refreshing = false };
        var messages = ImmutableList.CreateRange(ticket.Messages);
        foreach (var early in state.Early)
            messages = Put(messages, early, appendIfNew: true);
        return state with { Ticket = ticket with { Messages = [] }, Messages = messages, HasOlder = ticket.HasOlder, Early = [], Refreshing = false };
    }

    /// <summary>An older page goes in front; a late page for a ticket or position no longer shown is dropped.</summary>
    public static TicketState Reduce(TicketState state, OlderMessagesLoaded loaded)
    {
        if (state.TicketId != loaded.TicketId)
            return state;
        if (state.Messages.IsEmpty || state.Messages[0].Id != loaded.BeforeId)
            return state with { LoadingOlder = false };
        var known = state.Messages.Select(m => m.Id).ToHashSet();
        return state with
        {
            Messages = state.Messages.InsertRange(0, loaded.Page.Messages.Where(m => !known.Contains(m.Id))),
            HasOlder = loaded.Page.HasOlder,
            LoadingOlder = false,
        };
    }

    /// <summary>
    /// A new message is appended (once: the event may come after the snapshot already showed it); a known one (its
    /// delivery changed) is replaced where it is. Before the snapshot arrives it waits in <see cref="TicketState.Early"/>.
    /// </summary>
    public static TicketState Reduce(TicketState state, TicketMessageLoaded loaded)
    {
        if (state.TicketId != loaded.TicketId || state.Missing)
            return state;
        if (state.Ticket is null)
            return state with { Early = Put(state.Early, loaded.Message, appendIfNew: true) };
        if (state.Refreshing) // shown now, and kept for the snapshot, which may or may not have seen it
            state = state with { Early = Put(state.Early, loaded.Message, appendIfNew: true) };
        // A message older than the first one shown belongs to a page not loaded yet (a delivery change far up).
        var appendIfNew = state.Messages.IsEmpty || loaded.Message.Id > state.Messages[0].Id || !state.HasOlder;
        var messages = Put(state.Messages, loaded.Message, appendIfNew);
        // The header's count follows at once; the ticketUpdated that intake sends reloads the header anyway.
        var added = messages.Count - state.Messages.Count;
        return state with { Messages = messages, Ticket = state.Ticket with { MessageCount = state.Ticket.MessageCount + added } };
    }

    private static ImmutableList<TicketMessageView> Put(ImmutableList<TicketMessageView> messages, TicketMessageView message, bool appendIfNew)
    {
        var index = messages.FindLastIndex(m => m.Id == message.Id);
        if (index >= 0)
            return messages.SetItem(index, message);
        return appendIfNew ? messages.Add(message) : messages;
    }
}
