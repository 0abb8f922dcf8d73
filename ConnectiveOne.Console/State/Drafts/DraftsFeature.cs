using System.Collections.Immutable;
using ConnectiveOne.Console.State.Inbox;
using ConnectiveOne.Console.State.Ticket;
using ConnectiveOne.Core.Tickets;

namespace ConnectiveOne.Console.State.Drafts;

/// <summary>
/// Drafts as one circuit shows them: the signed-in user's draft on the open ticket (<see cref="Mine"/>, for the composer,
/// <see cref="Loaded"/> once read), who else has one there (<see cref="Others"/>: "Ann has a draft"), and which tickets
/// of the list page the user has a draft on (<see cref="Marked"/>).
/// </summary>
public sealed record DraftState(long? TicketId, DraftView? Mine, bool Loaded, ImmutableList<DraftAuthor> Others, ImmutableHashSet<long> Marked);

/// <summary>The user's draft on the ticket as just read (null: none).</summary>
public sealed record DraftLoaded(long TicketId, DraftView? Draft);
public sealed record DraftAuthorsLoaded(long TicketId, ImmutableList<DraftAuthor> Authors);
/// <summary>Which tickets of the loaded list page have the user's draft.</summary>
public sealed record DraftMarksLoaded(ImmutableHashSet<long> TicketIds);
/// <summary>The user's draft on a ticket was saved (true) or deleted (false), on any page.</summary>
public sealed record DraftMarked(long TicketId, bool HasDraft);

public sealed class DraftsFeature : Feature<DraftState>
{
    public override DraftState Initial => new(null, null, false, [], []);

    public DraftsFeature()
    {
        On<TicketOpened>((s, a) => s with { TicketId = a.TicketId, Mine = null, Loaded = false, Others = [] });
        On<TicketClosed>((s, a) => s.TicketId == a.TicketId ? s with { TicketId = null, Mine = null, Loaded = false, Others = [] } : s);
        On<DraftLoaded>((s, a) => s.TicketId == a.TicketId ? s with { Mine = a.Draft, Loaded = true } : s);
        On<DraftAuthorsLoaded>((s, a) => s.TicketId == a.TicketId ? s with { Others = a.Authors } : s);
        On<DraftMarksLoaded>((s, a) => s with { Marked = a.TicketIds });
        On<DraftMarked>((s, a) => s with { Marked = a.HasDraft ? s.Marked.Add(a.TicketId) : s.Marked.Remove(a.TicketId) });
    }
}
