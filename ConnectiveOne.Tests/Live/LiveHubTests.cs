using System.Net;
using System.Threading.Channels;
using ConnectiveOne.Core.Accounts;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Tests.Live;

/// <summary>The live hub over a real socket with the .NET SignalR client, authenticated by <c>access_token</c>.</summary>
public sealed class LiveHubTests : IAsyncLifetime
{
    private readonly TestApp _app = new();

    public Task InitializeAsync()
    {
        _app.StartKestrel();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    public sealed record Payload(string Id);

    private HubConnection Connect(string? token) =>
        new HubConnectionBuilder()
            .WithUrl($"{_app.ServerAddress}/hubs/live", o =>
            {
                if (token is not null)
                    o.AccessTokenProvider = () => Task.FromResult<string?>(token);
            })
            .Build();

    [Fact]
    public async Task Signed_in_clients_receive_each_change_by_its_wire_name_except_user_changes()
    {
        var operatorToken = await CreateOperatorTokenAsync();
        await using var connection = Connect(operatorToken);
        var received = Channel.CreateUnbounded<(string Name, string Id)>();
        string[] names = ["ticketCreated", "messageAdded", "ticketUpdated", "domainStatusChanged", "forwardingStatusChanged", "deliveryStatusChanged", "userChanged"];
        foreach (var name in names)
            connection.On<Payload>(name, p => received.Writer.TryWrite((name, p.Id)));
        await connection.StartAsync();

        var notifier = _app.Services.GetRequiredService<ChangeNotifier>();
        notifier.Publish(new ChangeEvent(ChangeKind.UserChanged, "someone"));
        foreach (var kind in Enum.GetValues<ChangeKind>().Where(k => k != ChangeKind.UserChanged))
            notifier.Publish(new ChangeEvent(kind, $"id-{kind}"));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var got = new List<(string Name, string Id)>();
        for (var i = 0; i < 6; i++)
            got.Add(await received.Reader.ReadAsync(timeout.Token));

        Assert.Equal(
            new[] { ("ticketCreated", "id-TicketCreated"), ("messageAdded", "id-MessageAdded"), ("ticketUpdated", "id-TicketUpdated"),
                ("domainStatusChanged", "id-DomainStatusChanged"), ("forwardingStatusChanged", "id-ForwardingStatusChanged"),
                ("deliveryStatusChanged", "id-DeliveryStatusChanged") },
            got);
    }

    public sealed record MessageAddedPayload(string Id, string? MessageId);

    [Fact]
    public async Task MessageAdded_carries_the_messages_id_beside_the_tickets()
    {
        await using var connection = Connect(await CreateOperatorTokenAsync());
        var received = Channel.CreateUnbounded<MessageAddedPayload>();
        connection.On<MessageAddedPayload>("messageAdded", p => received.Writer.TryWrite(p));
        await connection.StartAsync();

        _app.Services.GetRequiredService<ChangeNotifier>().Publish(new ChangeEvent(ChangeKind.MessageAdded, "42") { MessageId = 4711 });

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.Equal(new MessageAddedPayload("42", "4711"), await received.Reader.ReadAsync(timeout.Token));
    }

    private async Task<string> CreateOperatorTokenAsync()
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var created = await scope.ServiceProvider.GetRequiredService<UserDirectory>()
            .CreateAsync("operator@example.test", "operator-password-1", Roles.Operator, null);
        var (token, _) = await scope.ServiceProvider.GetRequiredService<ApiTokenService>()
            .CreateAsync(created.User!.Id, "hub test", CancellationToken.None);
        return token;
    }

    [Theory]
    [InlineData(null)]
    [InlineData("c1_not_a_real_token")]
    public async Task Clients_without_a_valid_token_or_cookie_get_401(string? token)
    {
        await using var connection = Connect(token);

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => connection.StartAsync());

        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.Equal(HubConnectionState.Disconnected, connection.State);
    }
}
