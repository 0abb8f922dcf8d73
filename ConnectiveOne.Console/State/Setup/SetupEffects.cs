using ConnectiveOne.Console.State.Changes;
using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Outbound;

namespace ConnectiveOne.Console.State.Setup;

/// <summary>
/// Loads the open setup page's snapshot when it opens, and then reloads only the slices a change event concerns:
/// a domain's status (background re-checks, Verify Now in another session) its domain, the addresses showing it and
/// how the wizard's mail goes out; an address's forwarding the lists and that address; a test mail's delivery the
/// test history. One load at a time per circuit (<see cref="CoalescedLoads{TRequest}"/>); slices asked for meanwhile
/// are loaded together by one more round. A failed load is logged and shown as the page's error.
/// </summary>
public sealed class SetupEffects(IServiceScopeFactory scopes, ILogger<SetupEffects> logger) : IEffect
{
    private const int ShownTests = 10;

    private readonly CoalescedLoads<SetupSlices> _loads = new((waiting, newer) => waiting | newer);

    public async Task HandleAsync(object action, Store store)
    {
        switch (action)
        {
            case SetupOpened opened:
                _loads.Clear(); // what waits was asked for the page that was left
                await LoadAsync(store, opened.View.Shows);
                break;
            case SetupTestsOpened:
                await LoadAsync(store, SetupSlices.Tests);
                break;
            case SetupReloadRequested reload:
                await LoadAsync(store, reload.Slices);
                break;
            case ChangeReceived { Change: var change } when Affected(change, store.Select<SetupState>()) is not SetupSlices.None and var slices:
                await LoadAsync(store, slices);
                break;
        }
    }

    /// <summary>
    /// The slices of the open page a change concerns. A slice not loaded yet counts as concerned: its first load may
    /// have read the database just before the change.
    /// </summary>
    public static SetupSlices Affected(ChangeEvent change, SetupState state)
    {
        if (state.Open is not { } open)
            return SetupSlices.None;
        bool Pending(SetupSlices slice) => !state.Loaded.HasFlag(slice);
        var onList = open.AddressId is null && open.DomainName is null;
        var slices = change.Kind switch
        {
            ChangeKind.DomainStatusChanged =>
                (onList ? SetupSlices.Addresses : SetupSlices.None) // the list shows every address's domain status
                | (Same(change.Id, state.Domain?.Name) || Pending(SetupSlices.Domain) ? SetupSlices.Domain : SetupSlices.None)
                // The wizard's address shows its domain's status, and its mail goes out signed once verified.
                | (Same(change.Id, state.Address?.Domain) || Pending(SetupSlices.Address)
                    ? SetupSlices.Address | SetupSlices.Domain | SetupSlices.Tests
                    : SetupSlices.None),
            ChangeKind.ForwardingStatusChanged =>
                (open.AddressId is null ? SetupSlices.Addresses : SetupSlices.None)
                | (change.Id == open.AddressId?.ToString() ? SetupSlices.Address | SetupSlices.Tests : SetupSlices.None),
            // Test and forwarding-test mails are named by their outbox id (a Guid); ticket replies by a message number.
            ChangeKind.DeliveryStatusChanged when Guid.TryParse(change.Id, out _) => SetupSlices.Tests,
            _ => SetupSlices.None,
        };
        return slices & open.Shows;
    }

    private static bool Same(string id, string? name) => name is not null && string.Equals(id, name, StringComparison.OrdinalIgnoreCase);

    private Task LoadAsync(Store store, SetupSlices slices) => _loads.RequestAsync(slices, asked => LoadSlicesAsync(store, asked), (ex, asked) =>
    {
        logger.LogError(ex, "Could not load the setup page ({Slices})", asked);
        if (store.Select<SetupState>().Open is { } open)
            store.Dispatch(new SetupLoadFailed(open.Visit, "This page could not be brought up to date. It tries again on the next change; reload the page to try now."));
    });

    private async Task LoadSlicesAsync(Store store, SetupSlices asked)
    {
        var state = store.Select<SetupState>();
        if (state.Open is not { } open || (asked & open.Shows) is var slices && slices == SetupSlices.None)
            return;
        await using var scope = scopes.CreateAsyncScope();
        var services = scope.ServiceProvider;
        var loaded = new SetupLoaded(open.Visit, slices);
        if (slices.HasFlag(SetupSlices.Addresses))
        {
            var directory = services.GetRequiredService<AddressDirectory>();
            loaded = loaded with
            {
                Addresses = [.. open.DomainName is { } name
                    ? await directory.ListByDomainAsync(name, CancellationToken.None)
                    : await directory.ListAsync(CancellationToken.None)],
            };
        }
        if (slices.HasFlag(SetupSlices.Address))
        {
            loaded = loaded with
            {
                Address = open.AddressId is { } id ? await services.GetRequiredService<AddressDirectory>().GetAsync(id, CancellationToken.None) : null,
            };
        }
        if (slices.HasFlag(SetupSlices.Domain))
        {
            var name = open.DomainName ?? (slices.HasFlag(SetupSlices.Address) ? loaded.Address : state.Address)?.Domain;
            loaded = loaded with
            {
                Domain = name is null ? null : await services.GetRequiredService<MailDomains>().GetAsync(name, CancellationToken.None),
            };
        }
        if (slices.HasFlag(SetupSlices.Tests) && open.AddressId is { } addressId)
        {
            var tests = services.GetRequiredService<TestMailService>();
            loaded = loaded with
            {
                Preview = await tests.PreviewSenderAsync(addressId),
                Tests = [.. await tests.ListTestsAsync(addressId, take: ShownTests)],
            };
        }
        store.Dispatch(loaded);
    }
}
