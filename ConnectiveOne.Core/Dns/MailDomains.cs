using System.Security.Cryptography;
using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Persistence;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Core.Dns;

/// <summary>Corporate domains: created with their token and DKIM keys, checked on demand, shown as <see cref="DomainView"/>.</summary>
public sealed class MailDomains(
    AppDbContext db,
    DnsVerifier verifier,
    ChangeNotifier notifier,
    IDataProtectionProvider protection,
    IOptions<ConnectiveOneOptions> options,
    TimeProvider time,
    ILogger<MailDomains> logger)
{
    private RecheckOptions Schedule => options.Value.Dns.Recheck;

    /// <summary>
    /// A new tracked domain with a verification token and DKIM keys k1 (active) and k2 (for rotation), private keys
    /// protected with Data Protection. The background worker checks it first.
    /// </summary>
    public MailDomain Create(string asciiName)
    {
        var protector = protection.CreateProtector(DkimKey.ProtectionPurpose);
        var now = time.GetUtcNow();
        var domain = new MailDomain
        {
            Name = asciiName,
            VerificationToken = Base32.Encode(RandomNumberGenerator.GetBytes(15)).ToLowerInvariant(),
            StatusChangedAt = now,
            NextCheckAt = now,
            CreatedAt = now,
        };
        foreach (var (selector, active) in new[] { (DkimKeyPair.PrimarySelector, true), (DkimKeyPair.RotationSelector, false) })
        {
            var pair = DkimKeyPair.Generate(selector);
            domain.DkimKeys.Add(new DkimKey
            {
                DomainName = asciiName,
                Selector = selector,
                PublicKey = pair.PublicKeyBase64,
                ProtectedPrivateKey = protector.Protect(pair.PrivateKeyPem),
                Active = active,
                CreatedAt = now,
            });
        }

        db.Domains.Add(domain);
        logger.LogInformation("Created domain {Domain} with DKIM selectors k1 and k2", asciiName);
        return domain;
    }

    /// <summary>The domain (Unicode or punycode name) as last checked; a domain never checked is checked now. Null when unknown.</summary>
    public async Task<DomainView?> GetAsync(string name, CancellationToken cancellationToken)
    {
        var domain = await FindAsync(name, cancellationToken);
        if (domain is null)
            return null;
        if (domain.CheckedAt is null)
            return await CheckAsync(domain, cancellationToken);
        return DomainCheckOutcome.View(domain, time.GetUtcNow(), Schedule);
    }

    /// <summary>
    /// Checks every record now (Verify Now), stores the result and announces a status change. Null when unknown. This
    /// is an attempt: from now on a record that is there but wrong makes the domain Failed.
    /// </summary>
    public async Task<DomainView?> VerifyAsync(string name, CancellationToken cancellationToken)
    {
        var domain = await FindAsync(name, cancellationToken);
        return domain is null ? null : await CheckAsync(domain, cancellationToken, explicitAttempt: true);
    }

    private async Task<MailDomain?> FindAsync(string name, CancellationToken cancellationToken)
    {
        var ascii = EmailAddressRules.ToAsciiDomain(name);
        return ascii is null
            ? null
            : await db.Domains.Include(d => d.DkimKeys).FirstOrDefaultAsync(d => d.Name == ascii, cancellationToken);
    }

    private async Task<DomainView> CheckAsync(MailDomain domain, CancellationToken cancellationToken, bool explicitAttempt = false)
    {
        var result = await verifier.CheckAsync(DomainCheckOutcome.SettingsOf(domain, options.Value.Outbound.SpfInclude), cancellationToken);
        var now = time.GetUtcNow();
        var changed = DomainCheckOutcome.Apply(domain, result, now, Schedule, explicitAttempt);
        await db.SaveChangesAsync(cancellationToken);
        if (changed)
            Announce(notifier, logger, domain);
        return DomainCheckOutcome.View(domain, now, Schedule);
    }

    /// <summary>Logs a status change and publishes <see cref="ChangeKind.DomainStatusChanged"/>.</summary>
    internal static void Announce(ChangeNotifier notifier, ILogger logger, MailDomain domain)
    {
        logger.LogInformation("Domain {Domain} is now {Status}", domain.Name, domain.Status);
        notifier.Publish(new ChangeEvent(ChangeKind.DomainStatusChanged, domain.Name,
            $"{EmailAddressRules.ToUnicodeDomain(domain.Name)} is now {domain.Status}"));
    }
}
