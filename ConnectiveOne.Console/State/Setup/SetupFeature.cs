using System.Collections.Immutable;
using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Outbound;

namespace ConnectiveOne.Console.State.Setup;

/// <summary>The parts of a setup page that load (and reload) on their own.</summary>
[Flags]
public enum SetupSlices
{
    None = 0,
    /// <summary>The address list: every address (/setup) or those on one domain (/setup/domains/x).</summary>
    Addresses = 1,
    /// <summary>The wizard's address.</summary>
    Address = 2,
    /// <summary>The domain of the wizard's address, or the domain page's domain.</summary>
    Domain = 4,
    /// <summary>The test step: how mail goes out (sender preview) and the address's recent tests.</summary>
    Tests = 8,
}

/// <summary>
/// The setup page open in this circuit: which slices it shows, for which address or domain. <see cref="Visit"/>
/// tells one opening from the next, so the page being left (disposed after the next one opened) closes only its own.
/// </summary>
public sealed record SetupView(Guid Visit, SetupSlices Shows, Guid? AddressId = null, string? DomainName = null);

/// <summary>
/// What the open setup page shows. A slice is null until it loaded (see <see cref="Loaded"/>: a loaded null is "not
/// found"); <see cref="LoadError"/> holds words when the last load failed.
/// </summary>
public sealed record SetupState(
    SetupView? Open,
    SetupSlices Loaded,
    ImmutableList<AddressView>? Addresses,
    AddressView? Address,
    DomainView? Domain,
    SenderPreview? Preview,
    ImmutableList<TestMailRecord>? Tests,
    string? LoadError)
{
    public static SetupState Closed { get; } = new(null, SetupSlices.None, null, null, null, null, null, null);
}

/// <summary>A setup page opened: its slices load, then follow the change events that concern them.</summary>
public sealed record SetupOpened(SetupView View);
/// <summary>The page of that visit was left; a later visit's page stays open.</summary>
public sealed record SetupClosed(Guid Visit);
/// <summary>The wizard's test step appeared (its slice loads and follows) or went away, for that address.</summary>
public sealed record SetupTestsOpened(Guid AddressId);
public sealed record SetupTestsClosed(Guid AddressId);
/// <summary>The page changed something itself (sent a test, verified): load those slices now rather than wait for an event.</summary>
public sealed record SetupReloadRequested(SetupSlices Slices);

/// <summary>Slices loaded for a visit; only the slices named in <see cref="Slices"/> are taken (their null means not found).</summary>
public sealed record SetupLoaded(Guid Visit, SetupSlices Slices)
{
    public ImmutableList<AddressView>? Addresses { get; init; }
    public AddressView? Address { get; init; }
    public DomainView? Domain { get; init; }
    public SenderPreview? Preview { get; init; }
    public ImmutableList<TestMailRecord>? Tests { get; init; }
}

public sealed record SetupLoadFailed(Guid Visit, string Message);

public sealed class SetupFeature : Feature<SetupState>
{
    public override SetupState Initial => SetupState.Closed;

    public SetupFeature()
    {
        // A new visit starts empty: the page shows its progress rather than the last page's data.
        On<SetupOpened>((_, a) => SetupState.Closed with { Open = a.View, Loaded = Nothing(a.View) });
        On<SetupClosed>((s, a) => s.Open?.Visit == a.Visit ? SetupState.Closed : s);
        On<SetupTestsOpened>((s, a) => s.Open is { } open && open.AddressId == a.AddressId
            ? s with { Open = open with { Shows = open.Shows | SetupSlices.Tests } }
            : s);
        On<SetupTestsClosed>((s, a) => s.Open is { } open && open.AddressId == a.AddressId
            ? s with { Open = open with { Shows = open.Shows & ~SetupSlices.Tests }, Loaded = s.Loaded & ~SetupSlices.Tests, Preview = null, Tests = null }
            : s);
        On<SetupLoaded>(Reduce);
        On<SetupLoadFailed>((s, a) => s.Open?.Visit == a.Visit ? s with { LoadError = a.Message } : s);
    }

    /// <summary>The new wizard (/setup/new) has nothing to load: it counts as loaded at once.</summary>
    private static SetupSlices Nothing(SetupView view) =>
        view.Shows.HasFlag(SetupSlices.Address) && view.AddressId is null ? SetupSlices.Address | SetupSlices.Domain : SetupSlices.None;

    /// <summary>
    /// Takes the loaded slices of the open visit. A slice that came back equal keeps the value shown (lists and records
    /// with lists compare by reference), so the components that selected it stay equal and do not re-render.
    /// </summary>
    public static SetupState Reduce(SetupState state, SetupLoaded loaded)
    {
        if (state.Open?.Visit != loaded.Visit)
            return state; // loaded for a page that was left meanwhile
        var slices = loaded.Slices;
        return state with
        {
            Loaded = state.Loaded | slices,
            LoadError = null,
            Addresses = slices.HasFlag(SetupSlices.Addresses) ? Keep(state.Addresses, loaded.Addresses) : state.Addresses,
            Address = slices.HasFlag(SetupSlices.Address) ? loaded.Address : state.Address,
            Domain = slices.HasFlag(SetupSlices.Domain) ? SameDomain(state.Domain, loaded.Domain) ? state.Domain : loaded.Domain : state.Domain,
            Preview = slices.HasFlag(SetupSlices.Tests) ? loaded.Preview : state.Preview,
            Tests = slices.HasFlag(SetupSlices.Tests) ? Keep(state.Tests, loaded.Tests) : state.Tests,
        };
    }

    private static ImmutableList<T>? Keep<T>(ImmutableList<T>? shown, ImmutableList<T>? loaded) =>
        shown is not null && loaded is not null && shown.SequenceEqual(loaded) ? shown : loaded;

    private static bool SameDomain(DomainView? shown, DomainView? loaded) =>
        shown is not null && loaded is not null
        && shown with { Records = loaded.Records } == loaded
        && shown.Records.Count == loaded.Records.Count
        && shown.Records.Zip(loaded.Records).All(pair => pair.First with { Found = pair.Second.Found } == pair.Second
                                                         && pair.First.Found.SequenceEqual(pair.Second.Found));
}
