using System.Net;
using ConnectiveOne.Core;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Tests.Persistence;

/// <summary>The database settings and what every provider must do at start (runs in both passes).</summary>
public sealed class DatabaseProviderTests
{
    [Fact]
    public async Task Nodes_starting_at_once_on_one_database_migrate_it_once_and_all_come_up()
    {
        await using var first = new TestApp();
        await using var second = new TestApp(shareWith: first);
        await using var third = new TestApp(shareWith: first);

        // Each start migrates the empty database and bootstraps the same admin: they race.
        await Task.WhenAll(new[] { first, second, third }.Select(app => Task.Run(() => app.Services)));

        foreach (var app in new[] { first, second, third })
            Assert.Equal(HttpStatusCode.OK, (await app.CreateApiClient().GetAsync("/api/v1/users")).StatusCode);
        await using var db = first.Database.OpenContext();
        Assert.Equal(db.Database.GetMigrations(), await db.Database.GetAppliedMigrationsAsync());
        Assert.Equal(1, await db.Users.CountAsync());
        Assert.Equal(TestDatabase.IsPostgres, db.Database.IsNpgsql());

        // The sign-in form's antiforgery token makes the key ring: in the database on PostgreSQL, in data/keys on SQLite.
        Assert.Equal(HttpStatusCode.OK, (await first.CreateClient().GetAsync("/account/login")).StatusCode);
        var keysFolder = Path.Combine(first.DataDirectory, "keys");
        var inDatabase = await db.DataProtectionKeys.CountAsync();
        var inFolder = Directory.Exists(keysFolder) ? Directory.GetFiles(keysFolder).Length : 0;
        Assert.True(TestDatabase.IsPostgres ? inDatabase > 0 && inFolder == 0 : inDatabase == 0 && inFolder > 0,
            $"keys in the database: {inDatabase}, in data/keys: {inFolder}");
    }

    [Theory]
    [InlineData("Postgres", "", "ConnectiveOne:Database:ConnectionString is empty")]
    [InlineData("Sqlite", "Host=db.example.net;Database=c1", "set Provider to Postgres, or remove the connection string")]
    public void Database_settings_that_cannot_work_stop_the_start_and_say_why(string provider, string connectionString, string says)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectiveOne:Database:Provider"] = provider,
            ["ConnectiveOne:Database:ConnectionString"] = connectionString,
        }).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging();
        services.AddConnectiveOneCore();
        using var built = services.BuildServiceProvider();

        // What ValidateOnStart runs before anything starts.
        var error = Assert.Throws<OptionsValidationException>(() => built.GetRequiredService<IOptions<ConnectiveOneOptions>>().Value);
        Assert.Contains(says, error.Message);
    }

    [Fact]
    public async Task Mail_with_NUL_characters_is_stored_on_every_provider()
    {
        await using var inbound = new InboundApp();
        var address = await InboundAddresses.AddAsync(inbound.App.Services, "support@nul.test");
        var raw = "From: \"Nul\0Name\" <nul@customer.test>\r\nTo: support@nul.test\r\nSubject: Broken\0subject\r\n"
                  + "Message-ID: <nul-1@customer.test>\r\n\r\nBody with a \0 inside.\r\n";

        using var http = inbound.App.CreateClient();
        using var content = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(raw));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("message/rfc822");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/inbound/mime?recipient={Uri.EscapeDataString(address.TechnicalAddress)}")
        {
            Content = content,
        };
        request.Headers.Add("X-Webhook-Token", InboundApp.WebhookToken);
        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await using var db = inbound.App.Database.OpenContext();
        var ticket = await db.Tickets.SingleAsync();
        // SQLite keeps U+0000; PostgreSQL text cannot, and gets U+FFFD in its place.
        Assert.Equal("Broken\uFFFDsubject", ticket.Subject.Replace('\0', '\uFFFD'));
    }
}
