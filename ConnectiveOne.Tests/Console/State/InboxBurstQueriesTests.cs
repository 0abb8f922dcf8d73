using System.Diagnostics;
using System.Security.Claims;
using ConnectiveOne.Console.State;
using ConnectiveOne.Console.State.Inbox;
using ConnectiveOne.Core.Accounts;
using ConnectiveOne.Tests.TestSupport;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using Xunit.Abstractions;

namespace ConnectiveOne.Tests.Console.State;

/// <summary>
/// Twenty open inbox pages (twenty circuits: each its own DI scope with the app's store, connector and effects, as
/// Blazor gives a circuit) follow one burst of mail over SMTP. The issue's bound: at most one list query per page for
/// the whole burst, not one per message per page; pages showing the same view share its query.
/// </summary>
public sealed class InboxBurstQueriesTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Pages = 20;
    private const int Burst = 20;

    private readonly InboundApp _inbound = new(new Dictionary<string, string?> { ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain });
    private readonly List<AsyncServiceScope> _circuits = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var circuit in _circuits)
            await circuit.DisposeAsync();
        await _inbound.DisposeAsync();
    }

    [Fact]
    public async Task A_burst_of_mail_costs_twenty_open_inbox_pages_at_most_one_list_query_each()
    {
        var app = _inbound.App;
        var technical = await MailSeed.AddressServedByBotAsync(app);
        var operatorUser = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, "burst-operator"), new Claim(ClaimTypes.Name, "burst@example.test"), new Claim(ClaimTypes.Role, Roles.Operator)],
            "test"));
        var stores = new List<Store>();
        for (var i = 0; i < Pages; i++)
        {
            var circuit = app.Services.CreateAsyncScope();
            _circuits.Add(circuit);
            ((IHostEnvironmentAuthenticationStateProvider)circuit.ServiceProvider.GetRequiredService<AuthenticationStateProvider>())
                .SetAuthenticationState(Task.FromResult(new AuthenticationState(operatorUser)));
            await circuit.ServiceProvider.GetRequiredService<StoreConnector>().StartAsync();
            var store = circuit.ServiceProvider.GetRequiredService<Store>();
            store.Dispatch(new InboxOpened());
            stores.Add(store);
        }
        var shared = app.Services.GetRequiredService<SharedTicketList>();
        await WaitAsync(() => stores.All(s => !s.Select<InboxState>().Loading) && !shared.Busy, () => "the pages to open");
        var before = shared.Counts;

        var endpoint = await _inbound.SmtpEndpointAsync();
        using (var client = new SmtpClient())
        {
            await client.ConnectAsync(endpoint.Address.ToString(), endpoint.Port, SecureSocketOptions.None);
            for (var i = 0; i < Burst; i++)
            {
                var message = new MimeMessage();
                message.From.Add(new MailboxAddress($"Customer {i}", $"customer{i}@customer.test"));
                message.To.Add(MailboxAddress.Parse("support@acme.test"));
                message.Subject = $"Burst {i}";
                message.Body = new TextPart("plain") { Text = "Hello" };
                await client.SendAsync(message, MailboxAddress.Parse("sender@example.org"), [MailboxAddress.Parse(technical)]);
            }
            await client.DisconnectAsync(true);
        }
        // Finished: every page shows the whole burst and no list query runs or waits.
        await WaitAsync(() => stores.All(s => s.Select<InboxState>().Tickets.Count == Burst) && !shared.Busy,
            () => $"every page to show the burst (pages show {string.Join(", ", stores.Select(s => s.Select<InboxState>().Tickets.Count))} tickets; " +
                  $"errors: {string.Join(", ", stores.Select(s => s.Select<InboxState>().LoadError).Distinct())}; busy {shared.Busy})");

        var (queries, requests) = (shared.Counts.Queries - before.Queries, shared.Counts.Requests - before.Requests);
        output.WriteLine($"{Burst} messages, {Pages} open inbox pages: {requests} list loads asked for by the pages, {queries} list queries run " +
                         $"({(double)queries / Pages:0.00} per page, {(double)queries / Burst:0.00} per message)");
        Assert.True(queries <= Pages, $"{queries} list queries for {Pages} pages and one burst: more than one per page.");
    }

    private static async Task WaitAsync(Func<bool> done, Func<string> what)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(60))
                throw new TimeoutException($"Waited 60 s for {what()}.");
            await Task.Delay(20);
        }
    }
}
