using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Tests.TestSupport;

/// <summary>Creates corporate addresses (and their domains) straight in the database, the way the address API stores them.</summary>
public static class InboundAddresses
{
    public sealed record Created(Guid Id, string Email, string TechnicalAddress);

    public static async Task<Created> AddAsync(IServiceProvider services, string email, string? technical = null)
    {
        await using var scope = services.CreateAsyncScope();
        return await AddAsync(scope.ServiceProvider.GetRequiredService<AppDbContext>(), email, technical);
    }

    /// <summary>Adds to the database directly (for an app running in another process).</summary>
    public static async Task<Created> AddAsync(TestDatabase database, string email, string? technical = null)
    {
        await using var db = database.OpenContext();
        return await AddAsync(db, email, technical);
    }

    private static async Task<Created> AddAsync(AppDbContext db, string email, string? technical)
    {
        var domain = email[(email.IndexOf('@') + 1)..].ToLowerInvariant();
        if (await db.Domains.FindAsync(domain) is null)
            db.Domains.Add(new MailDomain { Name = domain, VerificationToken = Guid.NewGuid().ToString("N") });
        technical ??= $"{email.Replace('@', '-').Replace('.', '-').ToLowerInvariant()}-{Guid.NewGuid():N}"[..40] + "@inbound.localhost";
        var address = new CorporateAddress
        {
            Email = email,
            NormalizedEmail = email.ToLowerInvariant(),
            Domain = domain,
            TechnicalAddress = technical.ToLowerInvariant(),
        };
        db.Addresses.Add(address);
        await db.SaveChangesAsync();
        return new Created(address.Id, address.Email, address.TechnicalAddress);
    }
}
