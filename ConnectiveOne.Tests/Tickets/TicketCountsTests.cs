using System.Data.Common;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using MimeKit;

namespace ConnectiveOne.Tests.Tickets;

/// <summary>The shared status counts against the app's database, with the count query held open on purpose.</summary>
public sealed class TicketCountsTests : IAsyncLifetime
{
    private readonly InboundApp _inbound = new();
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2026-11-27T10:00:00Z"));
    private readonly ChangeNotifier _notifier = new(NullLogger<ChangeNotifier>.Instance);
    private readonly HeldQuery _held = new();
    private ServiceProvider _services = null!;

    public Task InitializeAsync()
    {
        _ = _inbound.App.Services; // starts the app: the database is migrated
        _services = new ServiceCollection()
            .AddDbContext<AppDbContext>(db => _inbound.App.Database.Configure(db).AddInterceptors(_held))
            .BuildServiceProvider();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _inbound.DisposeAsync();
    }

    [Fact]
    public async Task A_caller_during_a_recount_waits_for_it_instead_of_taking_the_counts_from_before_the_change()
    {
        using var counts = new TicketCounts(_services.GetRequiredService<IServiceScopeFactory>(), _clock, _notifier);
        Assert.Equal(new StatusCounts(0, 0, 0), await counts.GetAsync());

        var technical = await MailSeed.AddressServedByBotAsync(_inbound.App);
        await _inbound.SendAsync(Mail("Invoice 4711 is wrong"), technical);
        _notifier.Publish(new ChangeEvent(ChangeKind.TicketCreated, "1", null));
        _clock.Advance(TicketCounts.MinInterval * 2);
        Assert.True(counts.IsStale);

        // One page's recount is in its query; another page asks meanwhile.
        var release = _held.Hold();
        var recount = counts.GetAsync();
        await _held.Entered.WaitAsync(TimeSpan.FromSeconds(30));
        var meanwhile = counts.GetAsync();
        release.SetResult();

        Assert.Equal(new StatusCounts(1, 0, 0), await recount);
        Assert.Equal(new StatusCounts(1, 0, 0), await meanwhile);
        Assert.False(counts.IsStale);
    }

    [Fact]
    public async Task A_change_during_a_recount_leaves_the_counts_stale_so_the_caller_asks_again()
    {
        using var counts = new TicketCounts(_services.GetRequiredService<IServiceScopeFactory>(), _clock, _notifier);
        var technical = await MailSeed.AddressServedByBotAsync(_inbound.App);

        var release = _held.Hold();
        var recount = counts.GetAsync();
        await _held.Entered.WaitAsync(TimeSpan.FromSeconds(30));
        _notifier.Publish(new ChangeEvent(ChangeKind.TicketCreated, "1", null)); // after the query's snapshot
        release.SetResult();
        Assert.Equal(new StatusCounts(0, 0, 0), await recount);
        Assert.True(counts.IsStale);

        await _inbound.SendAsync(Mail("Printer on fire"), technical);
        Assert.Equal(new StatusCounts(0, 0, 0), await counts.GetAsync()); // within the interval: the last counts
        _clock.Advance(TicketCounts.MinInterval);
        Assert.Equal(new StatusCounts(1, 0, 0), await counts.GetAsync());
        Assert.False(counts.IsStale);
    }

    private static MimeMessage Mail(string subject) => new()
    {
        From = { new MailboxAddress("Carla Customer", "carla@customer.test") },
        To = { MailboxAddress.Parse("support@acme.test") },
        Subject = subject,
        Body = new TextPart("plain") { Text = "Hello" },
    };

    /// <summary>Holds the next query in the database until released, and says when it got there.</summary>
    private sealed class HeldQuery : DbCommandInterceptor
    {
        private TaskCompletionSource? _release;
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Entered => _entered.Task;

        public TaskCompletionSource Hold() =>
            _release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command,
            CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            if (Interlocked.Exchange(ref _release, null) is { } release)
            {
                _entered.TrySetResult();
                await release.Task;
            }
            return result;
        }
    }
}
