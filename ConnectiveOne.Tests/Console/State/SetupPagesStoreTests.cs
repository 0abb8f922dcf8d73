using Bunit;
using Bunit.TestDoubles;
using ConnectiveOne.Console.Features.Setup;
using ConnectiveOne.Console.State;
using ConnectiveOne.Console.State.Setup;
using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Tests.Console.State;

/// <summary>
/// The setup pages are on the one live path: a change made in another session reaches the page as notifier → store →
/// SetupEffects → SetupState → page; the page shows what the store holds and loads nothing itself.
/// </summary>
public sealed class SetupPagesStoreTests : AppStoreContext
{
    [Fact]
    public async Task The_wizard_follows_its_domain_turning_verified_in_another_session_through_the_store()
    {
        var address = await SeedAsync("support@acme.test");
        var store = Services.GetRequiredService<Store>();
        await Services.GetRequiredService<StoreConnector>().StartAsync();
        var page = Render<AddressWizard>(p => p.Add(w => w.Id, address.Id));
        page.WaitForAssertion(() => Assert.Equal("Pending", DomainChip(page)));

        // Another admin's Verify Now (or the background re-check): the row changes and the event is published.
        await ChangeAsync(db => db.Domains.Single(d => d.Name == "acme.test").Status = DomainStatus.Verified);
        Notifier.Publish(new ChangeEvent(ChangeKind.DomainStatusChanged, "acme.test"));

        page.WaitForAssertion(() => Assert.Equal(DomainStatus.Verified, store.Select<SetupState>().Domain?.Status));
        page.WaitForAssertion(() => Assert.Equal("Verified", DomainChip(page)));
    }

    [Fact]
    public async Task Leaving_the_wizard_on_a_later_step_navigates_nowhere()
    {
        var address = await SeedAsync("support@acme.test");
        await Services.GetRequiredService<StoreConnector>().StartAsync();
        var navigation = Services.GetRequiredService<BunitNavigationManager>();
        navigation.NavigateTo($"/setup/addresses/{address.Id}?step=3");
        var page = Render<AddressWizard>(p => p.Add(w => w.Id, address.Id));
        page.WaitForAssertion(() => Assert.Equal("Pending", DomainChip(page)));
        var before = navigation.History.Select(h => h.Uri).ToList();
        var navigated = new List<string>();
        navigation.LocationChanged += (_, e) => navigated.Add(e.Location);

        // The stepper's steps unregister as the page is torn down, which moved its active step back one by one: the
        // wizard followed each with a URL change, on a circuit being disposed ("Navigation failed", logged as errors).
        await DisposeComponentsAsync();

        Assert.Empty(navigated);
        Assert.Equal(before, navigation.History.Select(h => h.Uri).ToList());
    }

    [Fact]
    public async Task The_address_list_follows_a_forwarding_change_and_shows_an_address_another_admin_added()
    {
        var first = await SeedAsync("support@acme.test");
        await Services.GetRequiredService<StoreConnector>().StartAsync();
        var page = Render<AddressTable>();
        page.WaitForAssertion(() => Assert.Contains("support@acme.test", page.Markup));

        // Another admin adds an address (no event of its own) and forwarding of the first is confirmed meanwhile:
        // the forwarding event reloads the list, which brings both.
        await SeedAsync("sales@acme.test");
        await ChangeAsync(db => db.Addresses.Single(a => a.Id == first.Id).Forwarding = ForwardingStatus.Confirmed);
        Notifier.Publish(new ChangeEvent(ChangeKind.ForwardingStatusChanged, first.Id.ToString()));

        page.WaitForAssertion(() => Assert.Contains("sales@acme.test", page.Markup));
        page.WaitForAssertion(() => Assert.Contains(page.FindAll("[data-testid='forwarding-status']"),
            chip => chip.GetAttribute("data-status") == nameof(ForwardingStatus.Confirmed)));
    }

    [Fact]
    public async Task The_page_shows_the_stores_error_when_a_load_failed()
    {
        var address = await SeedAsync("support@acme.test");
        var store = Services.GetRequiredService<Store>();
        var page = Render<AddressWizard>(p => p.Add(w => w.Id, address.Id));
        page.WaitForAssertion(() => Assert.Equal("Pending", DomainChip(page)));

        var visit = store.Select<SetupState>().Open!.Visit;
        await page.InvokeAsync(() => store.Dispatch(new SetupLoadFailed(visit, "The setup could not be loaded in this test.")));
        page.WaitForAssertion(() => Assert.Contains("The setup could not be loaded in this test.", page.Find("[data-testid='live-error']").TextContent));
    }

    private static string? DomainChip(IRenderedComponent<AddressWizard> page) =>
        page.Find("[data-testid='domain-status']").GetAttribute("data-status");

    /// <summary>An address on a pending domain that was checked already (so opening the page asks no DNS server).</summary>
    private async Task<CorporateAddress> SeedAsync(string email)
    {
        var address = await MailSeed.AddressAsync(App, email, DomainStatus.Pending);
        await ChangeAsync(db => db.Domains.Single(d => d.Name == address.Domain).CheckedAt = DateTimeOffset.UtcNow);
        return address;
    }

    private async Task ChangeAsync(Action<AppDbContext> change)
    {
        await using var scope = App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        change(db);
        await db.SaveChangesAsync();
    }
}
