using Bunit;
using ConnectiveOne.Console.Components.Layout;
using ConnectiveOne.Console.State;
using ConnectiveOne.Console.State.Notifications;
using ConnectiveOne.Console.State.Session;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using ConnectiveOne.Tests.TestSupport;

namespace ConnectiveOne.Tests.Console;

/// <summary>The bell in the app bar reads the store and re-renders when it changes.</summary>
[Trait("Database", "Unused")] // touches no database: runs in the SQLite pass only
public sealed class NotificationBellTests : MudTestContext
{
    public NotificationBellTests()
    {
        Services.AddScoped<Store>();
        Services.AddSingleton<IFeature, SessionFeature>();
        Services.AddSingleton<IFeature, NotificationsFeature>();
    }

    [Fact]
    public void The_count_follows_the_store_and_opening_the_menu_marks_all_read()
    {
        // Menus render their items in the popover provider, as in MainLayout.
        var popovers = Render<MudPopoverProvider>();
        var bell = Render<NotificationBell>();
        var store = Services.GetRequiredService<Store>();
        Assert.Empty(bell.FindAll(".mud-badge"));

        store.Dispatch(new NotificationReceived(new Notification("domainStatusChanged", "acme.com", "acme.com is verified", DateTimeOffset.UtcNow)));
        store.Dispatch(new NotificationReceived(new Notification("ticketCreated", "7", "New ticket #7", DateTimeOffset.UtcNow)));
        bell.WaitForAssertion(() => Assert.Equal("2", bell.Find(".mud-badge").TextContent.Trim()));

        bell.Find("button[aria-label='Notifications']").Click();
        popovers.WaitForAssertion(() => Assert.Contains("New ticket #7", popovers.Markup));
        bell.WaitForAssertion(() => Assert.Equal(0, store.Select<NotificationsState>().Unread));
    }
}
