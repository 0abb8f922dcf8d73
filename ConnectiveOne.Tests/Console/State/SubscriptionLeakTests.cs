using Bunit;
using ConnectiveOne.Console.Features.Bots;
using ConnectiveOne.Console.Features.Inbox;
using ConnectiveOne.Console.Features.Setup;
using ConnectiveOne.Console.State;
using ConnectiveOne.Console.State.Bots;
using ConnectiveOne.Console.State.Setup;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Tests.Console.State;

/// <summary>
/// Pages given back what they took: opening and leaving a page 100 times in one circuit leaves as many store and
/// change-notifier subscribers as before, and closes the view it opened in the store. The pages load from a real
/// database (the app's, migrated).
/// </summary>
public sealed class SubscriptionLeakTests : AppStoreContext
{
    public static TheoryData<string> Pages => new() { nameof(InboxPage), nameof(BotsPage), nameof(AddressWizard), nameof(DomainPage) };

    [Theory]
    [MemberData(nameof(Pages))]
    public async Task Opening_and_leaving_a_page_100_times_leaks_no_subscriber(string page)
    {
        var store = Services.GetRequiredService<Store>();
        // The circuit's one live path, as the layout starts it.
        await Services.GetRequiredService<StoreConnector>().StartAsync();
        _ = Services.GetRequiredService<TicketCounts>(); // a singleton that follows the notifier for the whole app
        var address = await MailSeed.AddressAsync(App, "support@acme.test", DomainStatus.Verified);
        await using (var scope = App.Services.CreateAsyncScope())
        {
            // Checked already: opening the page asks no DNS server.
            var db = scope.ServiceProvider.GetRequiredService<ConnectiveOne.Core.Persistence.AppDbContext>();
            (await db.Domains.FindAsync("acme.test"))!.CheckedAt = DateTimeOffset.UtcNow;
            await db.SaveChangesAsync();
        }
        var storeBefore = store.SubscriberCount;
        var notifierBefore = Notifier.SubscriberCount;

        for (var visit = 0; visit < 100; visit++)
        {
            var opened = Render(builder =>
            {
                switch (page)
                {
                    case nameof(InboxPage):
                        builder.OpenComponent<InboxPage>(0);
                        break;
                    case nameof(BotsPage):
                        builder.OpenComponent<BotsPage>(0);
                        break;
                    case nameof(AddressWizard):
                        builder.OpenComponent<AddressWizard>(0);
                        builder.AddComponentParameter(1, nameof(AddressWizard.Id), (Guid?)address.Id);
                        break;
                    default:
                        builder.OpenComponent<DomainPage>(0);
                        builder.AddComponentParameter(1, nameof(DomainPage.Name), "acme.test");
                        break;
                }
                builder.CloseComponent();
            });
            // Opened means subscribed and loaded: the page follows the store while it is open...
            opened.WaitForAssertion(() => Assert.True(store.SubscriberCount > storeBefore));
            if (page == nameof(AddressWizard))
                opened.WaitForAssertion(() => Assert.Contains("data-testid=\"domain-status\"", opened.Markup)); // address and domain shown
            opened.WaitForAssertion(() => Assert.DoesNotContain("mud-progress-linear", opened.Markup));
            await DisposeComponentsAsync();
            // ...and lets go when it is left.
            Assert.Equal(storeBefore, store.SubscriberCount);
            Assert.Null(store.Select<SetupState>().Open);
            Assert.False(store.Select<BotsState>().Active);
        }

        Assert.Equal(storeBefore, store.SubscriberCount);
        Assert.Equal(notifierBefore, Notifier.SubscriberCount);
    }
}
