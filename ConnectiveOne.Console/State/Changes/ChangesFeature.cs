using System.Collections.Immutable;
using ConnectiveOne.Core.Events;

namespace ConnectiveOne.Console.State.Changes;

/// <summary>
/// The change events this circuit received, numbered: pages outside the inbox (setup, bots) follow them from the store
/// instead of subscribing to the notifier themselves. Only the newest <see cref="Keep"/> are kept; a page that fell
/// further behind reloads without looking.
/// </summary>
public sealed record ChangesState(long Sequence, ImmutableList<ChangeEvent> Recent)
{
    public const int Keep = 64;

    /// <summary>The changes after number <paramref name="seen"/>, or null when some of them are no longer kept.</summary>
    public IReadOnlyList<ChangeEvent>? Since(long seen)
    {
        var missed = Sequence - seen;
        if (missed <= 0)
            return [];
        return missed > Recent.Count ? null : Recent.GetRange(Recent.Count - (int)missed, (int)missed);
    }
}

public sealed record ChangeReceived(ChangeEvent Change);

public sealed class ChangesFeature : Feature<ChangesState>
{
    public override ChangesState Initial => new(0, []);

    public ChangesFeature() => On<ChangeReceived>(Reduce);

    public static ChangesState Reduce(ChangesState state, ChangeReceived action)
    {
        var recent = state.Recent.Add(action.Change);
        if (recent.Count > ChangesState.Keep)
            recent = recent.RemoveRange(0, recent.Count - ChangesState.Keep);
        return new ChangesState(state.Sequence + 1, recent);
    }
}
