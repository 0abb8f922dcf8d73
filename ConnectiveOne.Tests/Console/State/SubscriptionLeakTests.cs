using Bunit;
using ConnectiveOne.Console.Features.Bots;
using ConnectiveOne.Console.Features.Inbox;
using ConnectiveOne.Console.State;
using ConnectiveOne.Core.Tickets;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Tests.Console.State;

/// <summary>
/// Pages given back what they took: opening and leaving a page 100 times in one circuit leaves as many store and
/// change-notifier subscribers as before. The pages load from a real database (the app's, migrated).
/// </summary>
public sealed class SubscriptionLeakTests : AppStoreContext
{
    public static TheoryData<string> Pages => new() { nameof(InboxPage), nameof(BotsPage) };

    [Theory]
    [MemberData(nameof(Pages))]
    public async Task Opening_and_leaving_a_page_100_times_leaks_no_subscriber(string page)
    {
        var store = Services.GetRequiredService<Store>();
        // The circuit's one live path, as the layout starts it.
        await Services.GetRequiredService<StoreConnector>().StartAsync();
        _ = Services.GetRequiredService<TicketCounts>(); // a singleton that follows the notifier for the whole app
        var storeBefore = store.SubscriberCount;
        var notifierBefore = Notifier.SubscriberCount;

        for (var visit = 0; visit < 100; visit++)
        {
            var type = page == nameof(InboxPage) ? typeof(InboxPage) : typeof(BotsPage);
            var opened = Render(builder =>
            {
                builder.OpenComponent(0, type);
                builder.CloseComponent();
            });
            // Opened means subscribed and loaded: the page follows the store while it is open...
            opened.WaitForAssertion(() => Assert.True(store.SubscriberCount > storeBefore));
            opened.WaitForAssertion(() => Assert.DoesNotContain("mud-progress-linear", opened.Markup));
            await DisposeComponentsAsync();
            // ...and lets go when it is left.
            Assert.Equal(storeBefore, store.SubscriberCount);
        }

        Assert.Equal(storeBefore, store.SubscriberCount);
        Assert.Equal(notifierBefore, Notifier.SubscriberCount);
    }
}
