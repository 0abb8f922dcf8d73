using System.Collections.Concurrent;
using ConnectiveOne.Tests.Browser;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Playwright;
using MimeKit;

namespace ConnectiveOne.Tests.Nodes;

/// <summary>Two nodes on real sockets sharing a database, a data folder and a real Redis, watched by Chromium and hub clients.</summary>
[Collection(BrowserCollection.Name)]
public sealed class MultiNodeBrowserTests(ChromiumFixture chromium) : IAsyncLifetime
{
    private SharedNodes _nodes = null!;

    public async Task InitializeAsync() => _nodes = await SharedNodes.StartAsync();

    public async Task DisposeAsync() => await _nodes.DisposeAsync();

    [Fact]
    public async Task Mail_sent_to_node_A_appears_live_on_node_B_and_reaches_each_hub_client_once()
    {
        await using var a = _nodes.Inbound("node-a");
        await using var b = _nodes.Inbound("node-b");
        a.App.StartKestrel();
        b.App.StartKestrel();
        var technical = await MailSeed.AddressServedByBotAsync(a.App);

        // A hub client on each node counts the events it gets.
        var received = new ConcurrentDictionary<string, ConcurrentBag<string>>();
        await using var hubOnA = await ListenAsync(a.App, "node-a", received);
        await using var hubOnB = await ListenAsync(b.App, "node-b", received);

        await using var page = await BrowserPage.OpenAsync(chromium.Browser, b.App.ServerAddress);
        await page.RunAsync(async () =>
        {
            await page.SignInAsync(TestApp.AdminEmail, TestApp.AdminPassword, "/inbox");
            await a.SendAsync(CustomerMail("Invoice 4711 is wrong"), technical);
            // Node B's page shows it without a reload, though node A took the mail.
            await Assertions.Expect(page.Page.GetByTestId("ticket-row").Filter(new() { HasText = "Invoice 4711 is wrong" })).ToBeVisibleAsync();
            await Assertions.Expect(page.Page.GetByTestId("count-open")).ToHaveTextAsync("1");

            // A second mail, now to node B, shows too; by the time its events are in, a duplicate of the first would be as well.
            await b.SendAsync(CustomerMail("Login broken"), technical);
            await Assertions.Expect(page.Page.GetByTestId("ticket-row").Filter(new() { HasText = "Login broken" })).ToBeVisibleAsync();
        });

        await SharedNodes.WaitForAsync(() => received.GetValueOrDefault("node-a")?.Count >= 2 && received.GetValueOrDefault("node-b")?.Count >= 2);
        var first = received["node-a"].ToHashSet();
        Assert.Equal(2, first.Count);
        Assert.Equal(first, received["node-b"].ToHashSet());

        // Marker mails, one through each node, sent after both tickets' events were in: once every hub client has the
        // markers' events too, a late duplicate of the first two would have arrived, whichever node published it.
        await a.SendAsync(CustomerMail("Marker via A"), technical);
        await b.SendAsync(CustomerMail("Marker via B"), technical);
        await SharedNodes.WaitForAsync(() => new[] { "node-a", "node-b" }.All(node => received[node].Except(first).Distinct().Count() >= 2));
        foreach (var node in new[] { "node-a", "node-b" })
        {
            var created = received[node].ToList();
            Assert.All(first, id => Assert.Single(created, c => c == id));
        }
    }

    private static async Task<HubConnection> ListenAsync(TestApp app, string node, ConcurrentDictionary<string, ConcurrentBag<string>> received)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl($"{app.ServerAddress}/hubs/live", o => o.AccessTokenProvider = () => Task.FromResult<string?>(TestApp.AdminToken))
            .Build();
        connection.On<Payload>("ticketCreated", p => received.GetOrAdd(node, _ => []).Add(p.Id));
        await connection.StartAsync();
        return connection;
    }

    public sealed record Payload(string Id);

    private static MimeMessage CustomerMail(string subject)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Carla Customer", $"carla-{Guid.NewGuid():N}@customer.test"));
        message.To.Add(MailboxAddress.Parse("support@acme.test"));
        message.Subject = subject;
        message.MessageId = $"{Guid.NewGuid():N}@customer.test";
        message.Body = new TextPart("plain") { Text = $"Hello, {subject}." };
        return message;
    }
}
