using System.Data.Common;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using MimeKit;

namespace ConnectiveOne.Tests.Tickets;

/// <summary>A ticket's message count when several writers add to one ticket at once.</summary>
public sealed class MessageCountTests : IAsyncLifetime
{
    private readonly InboundApp _inbound = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _inbound.DisposeAsync().AsTask();

    [Fact]
    public async Task A_reply_and_the_customers_next_mail_landing_together_are_both_counted()
    {
        var intakeBegins = new IntakeTransactionStarting();
        _inbound.App.TestServices = services => services.ConfigureDbContext<AppDbContext>(db => db.AddInterceptors(intakeBegins));
        var technical = await MailSeed.AddressServedByBotAsync(_inbound.App);
        await _inbound.SendAsync(Mail("Invoice 4711 is wrong"), technical);
        long ticketId;
        await using (var db = _inbound.App.Database.OpenContext())
            ticketId = (await db.Tickets.SingleAsync()).Id;

        // The reply has written its message and its count, and is held just before it commits…
        var commit = new HeldCommit();
        var reply = Task.Run(() => MailSeed.ReplyWithAsync(_inbound.App, ticketId, "We are on it.", [], commit));
        await commit.Entered.WaitAsync(TimeSpan.FromSeconds(30));
        // …while the customer's next mail arrives: intake reads the ticket before the reply's count is visible, and
        // writes after it. On PostgreSQL intake's write waits for the reply's row lock (seen in pg_stat_activity);
        // on SQLite intake waits for the write lock before it reads, so order is all there is to set up: intake's
        // transaction starts while the reply's is still open.
        intakeBegins.Arm();
        var mail = _inbound.SendAsync(Mail("Re: Invoice 4711 is wrong"), technical);
        await intakeBegins.Started.WaitAsync(TimeSpan.FromSeconds(30));
        if (TestDatabase.IsPostgres)
            await WaitUntilAsync(_inbound.App.Database.SomeoneWaitsForALockAsync, "intake never waited for the reply's lock");
        commit.Release();
        Assert.Null((await reply).Error);
        await mail;

        await using var check = _inbound.App.Database.OpenContext();
        var ticket = await check.Tickets.AsNoTracking().SingleAsync();
        Assert.Equal(3, await check.Messages.CountAsync(m => m.TicketId == ticket.Id));
        Assert.Equal(3, ticket.MessageCount);
    }

    private static MimeMessage Mail(string subject) => new()
    {
        From = { new MailboxAddress("Carla Customer", "carla@customer.test") },
        To = { MailboxAddress.Parse("support@acme.test") },
        Subject = subject,
        Body = new TextPart("plain") { Text = "Hello" },
    };

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string otherwise)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, otherwise);
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Says when the intake writer starts a transaction after <see cref="Arm"/>. The app's other workers share the
    /// context type, so the writer is told apart by the caller on the stack (the interceptor runs inside its
    /// <c>BeginTransactionAsync</c> call).
    /// </summary>
    private sealed class IntakeTransactionStarting : DbTransactionInterceptor
    {
        private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile bool _armed;

        public Task Started => _started.Task;

        public void Arm() => _armed = true;

        public override ValueTask<InterceptionResult<DbTransaction>> TransactionStartingAsync(DbConnection connection,
            TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result, CancellationToken cancellationToken = default)
        {
            if (_armed && new System.Diagnostics.StackTrace().ToString().Contains("IntakeBatchWriter", StringComparison.Ordinal))
                _started.TrySetResult();
            return ValueTask.FromResult(result);
        }
    }

    /// <summary>Holds a transaction's commit until released, and says when it got there.</summary>
    private sealed class HeldCommit : DbTransactionInterceptor
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Entered => _entered.Task;

        public void Release() => _release.TrySetResult();

        public override async ValueTask<InterceptionResult> TransactionCommittingAsync(DbTransaction transaction,
            TransactionEventData eventData, InterceptionResult result, CancellationToken cancellationToken = default)
        {
            _entered.TrySetResult();
            await _release.Task;
            return result;
        }
    }
}
