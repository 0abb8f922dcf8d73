using System.Collections.Immutable;
using ConnectiveOne.Core.Bots;

namespace ConnectiveOne.Console.State.Bots;

/// <summary>
/// The Bots page of one circuit: every bot with the addresses its Email channel can take. <see cref="Bots"/> is null
/// until the first snapshot arrived (the page shows its progress bar); <see cref="LoadError"/> holds words when the
/// last load failed.
/// </summary>
public sealed record BotsState(ImmutableList<BotInfo>? Bots, ImmutableList<AddressChoice> Choices, bool Active, string? LoadError);

/// <summary>The Bots page opened (loads its snapshot and follows changes) or closed (stops following).</summary>
public sealed record BotsPageOpened;
public sealed record BotsPageClosed;
/// <summary>The page changed bots itself (created one, saved a channel): load now rather than waiting for an event.</summary>
public sealed record BotsReloadRequested;
public sealed record BotsLoaded(ImmutableList<BotInfo> Bots, ImmutableList<AddressChoice> Choices);
public sealed record BotsLoadFailed(string Message);

public sealed class BotsFeature : Feature<BotsState>
{
    public override BotsState Initial => new(null, [], false, null);

    public BotsFeature()
    {
        On<BotsPageOpened>((s, _) => s with { Active = true });
        On<BotsPageClosed>((s, _) => s with { Active = false });
        On<BotsLoaded>(Reduce);
        On<BotsLoadFailed>((s, a) => s with { LoadError = a.Message });
    }

    /// <summary>A reload that found what is shown keeps the shown lists, so the page's slices stay equal and it does not re-render.</summary>
    public static BotsState Reduce(BotsState state, BotsLoaded loaded) => state with
    {
        Bots = state.Bots is { } bots && bots.SequenceEqual(loaded.Bots) ? bots : loaded.Bots,
        Choices = state.Choices.SequenceEqual(loaded.Choices) ? state.Choices : loaded.Choices,
        LoadError = null,
    };
}
