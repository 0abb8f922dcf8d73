using System.Net;
using System.Net.Http.Json;
using ConnectiveOne.Core.Bots;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Tests.Integration;

/// <summary>Step 1 through the API: add, duplicate in another case, invalid, IDN, operator refused, delete.</summary>
public sealed class AddressesApiTests : IAsyncLifetime
{
    private SetupApp _setup = null!;
    private HttpClient _admin = null!;

    public Task InitializeAsync()
    {
        _setup = SetupApp.Start();
        _admin = _setup.App.CreateApiClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _setup.DisposeAsync();

    [Fact]
    public async Task Adding_an_address_returns_it_with_an_unguessable_technical_address()
    {
        var address = await _setup.AddAddressAsync(_admin, "Support@Acme.test");

        Assert.Equal("Support@acme.test", address.GetProperty("email").GetString());
        Assert.Equal("acme.test", address.GetProperty("domain").GetString());
        Assert.Equal("Pending", address.GetProperty("domainStatus").GetString());
        Assert.Equal("Waiting", address.GetProperty("forwarding").GetProperty("status").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, address.GetProperty("botId").ValueKind);
        Assert.Matches("^support-acme-test-[a-z2-7]{8}@inbound\\.example\\.net$", address.GetProperty("technicalAddress").GetString());

        var id = address.GetProperty("id").GetGuid();
        var fetched = await SetupApp.JsonAsync(await _admin.GetAsync($"/api/v1/addresses/{id}"));
        Assert.Equal(address.GetProperty("technicalAddress").GetString(), fetched.GetProperty("technicalAddress").GetString());
        var list = await _admin.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/v1/addresses");
        Assert.Single(list.EnumerateArray());

        // A second address on the same domain gets its own technical address.
        var second = await _setup.AddAddressAsync(_admin, "sales@acme.test");
        Assert.NotEqual(address.GetProperty("technicalAddress").GetString(), second.GetProperty("technicalAddress").GetString());
    }

    [Fact]
    public async Task The_same_address_in_another_case_is_a_conflict_naming_the_existing_one()
    {
        var first = await _setup.AddAddressAsync(_admin, "support@acme.test");

        var response = await _admin.PostAsJsonAsync("/api/v1/addresses", new { email = "SUPPORT@ACME.TEST" });

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var problem = await SetupApp.JsonAsync(response);
        Assert.Equal("support@acme.test is already added.", problem.GetProperty("title").GetString());
        Assert.Equal(first.GetProperty("id").GetGuid(), problem.GetProperty("addressId").GetGuid());
    }

    [Theory]
    [InlineData("not-an-email", "is not an email address")]
    [InlineData("Support <support@acme.test>", "is not an email address")]
    [InlineData("", "Enter an email address")]
    public async Task Invalid_addresses_are_400_with_the_problem_in_words(string email, string title)
    {
        var response = await _admin.PostAsJsonAsync("/api/v1/addresses", new { email });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(title, (await SetupApp.JsonAsync(response)).GetProperty("title").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Idn_domains_are_stored_in_punycode_shown_in_unicode_and_found_by_either_name()
    {
        var address = await _setup.AddAddressAsync(_admin, "info@bücher.test");

        Assert.Equal("info@bücher.test", address.GetProperty("email").GetString());
        Assert.Equal("bücher.test", address.GetProperty("domain").GetString());
        Assert.Equal("xn--bcher-kva.test", address.GetProperty("asciiDomain").GetString());
        Assert.Contains("-xn-bcher-kva-test-", address.GetProperty("technicalAddress").GetString(), StringComparison.Ordinal);

        var duplicate = await _admin.PostAsJsonAsync("/api/v1/addresses", new { email = "INFO@xn--bcher-kva.test" });
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);

        foreach (var name in new[] { "bücher.test", "xn--bcher-kva.test" })
        {
            var domain = await SetupApp.JsonAsync(await _admin.GetAsync($"/api/v1/domains/{Uri.EscapeDataString(name)}"));
            Assert.Equal("xn--bcher-kva.test", domain.GetProperty("asciiName").GetString());
            Assert.Contains(domain.GetProperty("records").EnumerateArray(), r => r.GetProperty("host").GetString() == "k1._domainkey.xn--bcher-kva.test");
        }
    }

    [Fact]
    public async Task Operators_are_told_only_admins_can_add_addresses()
    {
        var token = await _setup.App.CreateUserWithTokenAsync("operator@example.test", "Operator");
        var client = _setup.App.CreateApiClient(token);

        var response = await client.PostAsJsonAsync("/api/v1/addresses", new { email = "support@acme.test" });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("Only admins can add addresses.", (await SetupApp.JsonAsync(response)).GetProperty("title").GetString());
    }

    [Fact]
    public async Task Deleting_is_refused_while_a_bot_uses_the_address()
    {
        var address = await _setup.AddAddressAsync(_admin, "support@acme.test");
        var id = address.GetProperty("id").GetGuid();
        await using (var scope = _setup.App.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            db.Bots.Add(new Bot { Name = "Support bot", EmailAddressId = id });
            await db.SaveChangesAsync();
        }

        var refused = await _admin.DeleteAsync($"/api/v1/addresses/{id}");
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("Support bot", (await SetupApp.JsonAsync(refused)).GetProperty("title").GetString(), StringComparison.Ordinal);

        var other = await _setup.AddAddressAsync(_admin, "sales@acme.test");
        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/api/v1/addresses/{other.GetProperty("id").GetGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync($"/api/v1/addresses/{other.GetProperty("id").GetGuid()}")).StatusCode);
    }

    [Fact]
    public async Task New_domains_get_dkim_keys_k1_active_and_k2_with_protected_private_keys()
    {
        await _setup.AddAddressAsync(_admin, "support@acme.test");

        await using var scope = _setup.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var keys = db.DkimKeys.Where(k => k.DomainName == "acme.test").OrderBy(k => k.Selector).ToList();
        Assert.Equal(new[] { "k1", "k2" }, keys.Select(k => k.Selector));
        Assert.Equal(new[] { true, false }, keys.Select(k => k.Active));
        var protector = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.DataProtection.IDataProtectionProvider>()
            .CreateProtector(ConnectiveOne.Core.Dns.DkimKey.ProtectionPurpose);
        foreach (var key in keys)
        {
            Assert.DoesNotContain("PRIVATE KEY", key.ProtectedPrivateKey, StringComparison.Ordinal);
            var pem = protector.Unprotect(key.ProtectedPrivateKey);
            Assert.Equal(key.PublicKey, ConnectiveOne.Core.Dns.DkimKeyPair.FromPrivateKeyPem(key.Selector, pem).PublicKeyBase64);
        }
    }
}
