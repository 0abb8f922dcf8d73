using Bunit;
using ConnectiveOne.Console.Components.Layout;
using ConnectiveOne.Console.State;
using ConnectiveOne.Console.State.Notifications;
using ConnectiveOne.Console.State.Session;
using ConnectiveOne.Core.Notifications;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using ConnectiveOne.Tests.TestSupport;

namespace ConnectiveOne.Tests.Console;

/// <summary>The bell in the app bar reads the store, re-renders when it changes, and marks read through it.</summary>
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
    public void The_count_follows_the_store_the_panel_lists_the_users_notifications_and_mark_all_read_clears_it()
    {
        JSInterop.Setup<string>("connectiveOneNotifications.permission").SetResult("default");
        // Menus render their items in the popover provider, as in MainLayout.
        var popovers = Render<MudPopoverProvider>();
        var bell = Render<NotificationBell>();
        var store = Services.GetRequiredService<Store>();
        Assert.Empty(bell.FindAll(".mud-badge"));

        store.Dispatch(new NotificationsLoaded("u1", new NotificationPage(
        [
            new NotificationView(2, "assigned", 7, "Bob assigned #7 to you: Printer", DateTimeOffset.UtcNow, null),
            new NotificationView(1, "newTicket", 6, "New ticket #6: Toner", DateTimeOffset.UtcNow, null),
        ], 2)));
        bell.WaitForAssertion(() => Assert.Equal("2", bell.Find(".mud-badge").TextContent.Trim()));

        bell.Find("button[aria-label='Notifications, 2 unread']").Click();
        popovers.WaitForAssertion(() => Assert.Contains("Bob assigned #7 to you", popovers.Markup));
        Assert.Equal(["7", "6"], popovers.FindAll("[data-testid=notification]").Select(e => e.GetAttribute("data-ticket")));
        // The browser has not been asked yet: the panel offers it (and nothing asked on load).
        Assert.Single(popovers.FindAll("[data-testid=notifications-permission]"));
        Assert.Empty(JSInterop.Invocations["connectiveOneNotifications.ask"]);

        popovers.Find("[data-testid=notifications-mark-all]").Click();
        bell.WaitForAssertion(() => Assert.Equal(0, store.Select<NotificationsState>().Unread));
        bell.WaitForAssertion(() => Assert.Empty(bell.FindAll(".mud-badge")));
    }
}
