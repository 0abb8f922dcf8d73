using ConnectiveOne.Console.State;
using ConnectiveOne.Core.Bots;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace ConnectiveOne.Tests.Console.State;

/// <summary>
/// A bUnit context with the circuit's store wired as the app wires it, over the app's real (migrated) database and a
/// change notifier the test publishes on; signed in as an admin.
/// </summary>
public abstract class AppStoreContext : MudTestContext, IAsyncLifetime
{
    protected TestApp App { get; } = new();
    protected ChangeNotifier Notifier { get; } = new(NullLogger<ChangeNotifier>.Instance);

    protected AppStoreContext()
    {
        _ = App.Services; // starts the app: the database is migrated
        Services.AddDbContext<AppDbContext>(db => App.Database.Configure(db));
        Services.AddSingleton(TimeProvider.System);
        Services.AddSingleton(Notifier);
        Services.AddSingleton<TicketPresence>();
        Services.AddSingleton<TicketCounts>();
        Services.AddScoped<TicketQueries>();
        Services.AddScoped<TicketReads>();
        Services.AddBots();
        Services.AddConnectiveOneStore();
        AddAuthorization().SetAuthorized("admin@example.test").SetRoles(ConnectiveOne.Core.Accounts.Roles.Admin);
    }

    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await App.DisposeAsync();
    }
}
