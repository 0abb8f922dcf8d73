using System.Collections.Immutable;
using ConnectiveOne.Core.Bots;

namespace ConnectiveOne.Console.State.Bots;

/// <summary>
/// The bots of one circuit, as the Bots page and the setup wizard's bot step show them: every bot with the addresses
/// its Email channel can take. <see cref="Bots"/> is null until the first snapshot arrived (the page shows its
/// progress bar); <see cref="LoadError"/> holds words when the last load failed. <see cref="Viewers"/> counts the open
/// views: a view that opens before the one it replaces is disposed (Blazor's order) must not be switched off by it.
/// </summary>
public sealed record BotsState(ImmutableList<BotInfo>? Bots, ImmutableList<AddressChoice> Choices, int Viewers, string? LoadError)
{
    /// <summary>A view of the bots is open: changes are followed.</summary>
    public bool Active => Viewers > 0;
}

/// <summary>A view of the bots opened (loads its snapshot and follows changes) or closed (stops following when the last one closes).</summary>
public sealed record BotsPageOpened;
public sealed record BotsPageClosed;
/// <summary>The page changed bots itself (created one, saved a channel): load now rather than waiting for an event.</summary>
public sealed record BotsReloadRequested;
public sealed record BotsLoaded(ImmutableList<BotInfo> Bots, ImmutableList<AddressChoice> Choices);
public sealed record BotsLoadFailed(string Message);

public sealed class BotsFeature : Feature<BotsState>
{
    public override BotsState Initial => new(null, [], 0, null);

    public BotsFeature()
    {
        // The first view shows its progress until its snapshot came, not what the last visit left.
        On<BotsPageOpened>((s, _) => s.Viewers == 0 ? Initial with { Viewers = 1 } : s with { Viewers = s.Viewers + 1 });
        On<BotsPageClosed>((s, _) => s with { Viewers = Math.Max(0, s.Viewers - 1) });
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
