using Bunit;
using ConnectiveOne.Console.Features.Bots;
using ConnectiveOne.Console.State;
using ConnectiveOne.Console.State.Bots;
using ConnectiveOne.Core.Bots;
using ConnectiveOne.Core.Events;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Tests.Console.State;

/// <summary>
/// The Bots page is on the one live path: a change event goes notifier → store → BotsEffects → BotsState → page, and
/// the page shows what the store holds rather than loading on its own.
/// </summary>
public sealed class BotsPageStoreTests : AppStoreContext
{
    [Fact]
    public async Task An_address_change_event_reloads_the_bots_through_the_store_and_the_page_shows_them()
    {
        var store = Services.GetRequiredService<Store>();
        await Services.GetRequiredService<StoreConnector>().StartAsync();
        var page = Render<BotsPage>();
        page.WaitForAssertion(() => Assert.NotNull(store.Select<BotsState>().Bots));
        page.WaitForAssertion(() => Assert.DoesNotContain("mud-progress-linear", page.Markup));

        // Written behind the page's back: creating a bot publishes no event, so only the change below brings it.
        await using (var scope = Services.CreateAsyncScope())
            Assert.NotNull((await scope.ServiceProvider.GetRequiredService<BotService>().CreateAsync("Behind the back")).Bot);
        Notifier.Publish(new ChangeEvent(ChangeKind.DomainStatusChanged, "example.test"));

        page.WaitForAssertion(() => Assert.Contains(store.Select<BotsState>().Bots!, b => b.Name == "Behind the back"));
        page.WaitForAssertion(() => Assert.Contains("Behind the back", page.Markup));
    }

    [Fact]
    public async Task The_page_shows_what_the_store_holds_and_its_error()
    {
        var store = Services.GetRequiredService<Store>();
        var page = Render<BotsPage>();
        page.WaitForAssertion(() => Assert.DoesNotContain("mud-progress-linear", page.Markup));

        // No such bot in the database: only a page that renders the store's state can show it.
        await page.InvokeAsync(() => store.Dispatch(new BotsLoaded([new BotInfo(Guid.NewGuid(), "Only in the store", null)], [])));
        page.WaitForAssertion(() => Assert.Contains("Only in the store", page.Markup));

        await page.InvokeAsync(() => store.Dispatch(new BotsLoadFailed("The bots could not be loaded in this test.")));
        page.WaitForAssertion(() => Assert.Contains("The bots could not be loaded in this test.", page.Markup));
    }
}
