using ConnectiveOne.Console.Features.Setup;
using ConnectiveOne.Console.State;
using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Bots;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Outbound;
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
        // The setup pages' services as the app configures them (DNS, outbound, Data Protection), from an app scope that
        // lives and goes with the circuit's own.
        Services.AddScoped(_ => new AppScope(App.Services));
        Services.AddScoped(s => s.GetRequiredService<AppScope>().Get<AddressDirectory>());
        Services.AddScoped(s => s.GetRequiredService<AppScope>().Get<MailDomains>());
        Services.AddScoped(s => s.GetRequiredService<AppScope>().Get<TestMailService>());
        Services.AddTestMailThrottle();
        Services.AddConnectiveOneStore();
        AddAuthorization().SetAuthorized("admin@example.test").SetRoles(ConnectiveOne.Core.Accounts.Roles.Admin);
    }

    private sealed class AppScope(IServiceProvider app) : IAsyncDisposable
    {
        private readonly AsyncServiceScope _scope = app.CreateAsyncScope();

        public T Get<T>() where T : notnull => _scope.ServiceProvider.GetRequiredService<T>();

        public ValueTask DisposeAsync() => _scope.DisposeAsync();
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await App.DisposeAsync();
    }
}
