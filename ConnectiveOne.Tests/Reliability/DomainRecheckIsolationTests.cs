using System.Net.Http.Json;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Tests.Reliability;

/// <summary>
/// The DNS re-check worker treats one domain whose check throws as that domain's failure: it is recorded with the reason
/// in words (shown with the domain) and checked again soon, and the domains beside it in the batch are checked as usual.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class DomainRecheckIsolationTests
{
    [Fact]
    public async Task A_domain_whose_check_throws_is_recorded_in_words_and_the_others_in_its_batch_are_checked()
    {
        await using var setup = SetupApp.Start();
        var admin = setup.App.CreateApiClient();
        await setup.AddAddressAsync(admin, "support@good-one.test");
        await setup.AddAddressAsync(admin, "support@good-two.test");
        setup.Publish(await SetupApp.JsonAsync(await admin.PostAsync("/api/v1/domains/good-one.test/verify", null)));
        // A name DNS cannot ask for (a label over 63 bytes), as an older version or a restored backup could have stored it:
        // the DNS client throws on it.
        var poisoned = new string('x', 70) + ".test";
        var now = DateTimeOffset.UtcNow;
        await using (var db = setup.App.Database.OpenContext())
        {
            db.Domains.Add(new MailDomain { Name = poisoned, VerificationToken = "t0ken", NextCheckAt = now.AddHours(-2) });
            await db.SaveChangesAsync();
            await db.Domains.Where(d => d.Name != poisoned).ExecuteUpdateAsync(set => set.SetProperty(d => d.NextCheckAt, now.AddHours(-1)));
        }
        var worker = setup.App.Services.GetServices<IHostedService>().OfType<DomainRecheckWorker>().Single();

        Assert.Equal(3, await worker.CheckDueAsync(CancellationToken.None));

        await using var check = setup.App.Database.OpenContext();
        var domains = await check.Domains.AsNoTracking().ToDictionaryAsync(d => d.Name);
        Assert.Equal(DomainStatus.Verified, domains["good-one.test"].Status);
        Assert.NotNull(domains["good-two.test"].CheckedAt);
        var bad = domains[poisoned];
        Assert.Null(bad.LeaseOwner);
        Assert.True(bad.NextCheckAt > now, "the failed domain is due again at once and would be claimed first forever");
        var schedule = setup.App.Services.GetRequiredService<IOptions<Core.ConnectiveOneOptions>>().Value.Dns.Recheck;
        var hint = DomainCheckOutcome.View(bad, DateTimeOffset.UtcNow, schedule).Hint;
        Assert.NotNull(hint);
        Assert.Contains("The last check could not be done", hint);
        Assert.Contains("longer than 63 bytes", hint);
    }
}
