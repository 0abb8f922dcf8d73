using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Core.Addresses;

/// <summary>A corporate address as pages and the API show it, with its domain's status and its bot.</summary>
/// <remarks><para><c>Email</c> and <c>Domain</c> are stored forms (punycode); the <c>Display*</c> ones are Unicode.</para></remarks>
public sealed record AddressView(
    Guid Id,
    string Email,
    string DisplayEmail,
    string TechnicalAddress,
    string Domain,
    string DisplayDomain,
    DomainStatus DomainStatus,
    ForwardingStatus Forwarding,
    string? ForwardingDetail,
    DateTimeOffset? LastReceivedAt,
    Guid? BotId,
    string? BotName,
    DateTimeOffset CreatedAt)
{
    /// <summary>The name replies are sent under (see <see cref="CorporateAddress.DisplayName"/>).</summary>
    public string? DisplayName { get; init; }
    public FromFormat FromFormat { get; init; }
    public string? Signature { get; init; }
    public bool QuoteByDefault { get; init; }
}

/// <summary>How replies from an address present themselves; a null field stays as it is ("" clears a text).</summary>
public sealed record AddressConversationChange(string? DisplayName, string? FromFormat, string? Signature, bool? QuoteByDefault);

public enum AddAddressError
{
    /// <summary>Not an email address, or beyond the RFC 5321 limits.</summary>
    Invalid,

    /// <summary>The same address (in any case) is already added.</summary>
    Duplicate,

    /// <summary><c>ConnectiveOne:InboundDomain</c> is empty, so no technical address can be made.</summary>
    NoInboundDomain,
}

/// <summary>The outcome of adding an address: the address, or an error in words (and the existing id for a duplicate).</summary>
public sealed record AddAddressResult(AddressView? Address, AddAddressError? Error = null, string? Message = null, Guid? ExistingId = null);

public enum DeleteAddressOutcome
{
    Deleted,
    NotFound,
    UsedByBot,

    /// <summary>Tickets came in through it: they send their replies from it, so it stays.</summary>
    HasTickets,
}

/// <summary>What removing an address would do: blocked by <c>BotName</c>'s Email channel, or by its <c>Tickets</c>.</summary>
public sealed record AddressRemoval(DeleteAddressOutcome Outcome, string? BotName = null, int Tickets = 0)
{
    /// <summary>Why the address cannot be removed, in words; null when it can.</summary>
    public string? Blocked(string email) => Outcome switch
    {
        DeleteAddressOutcome.UsedByBot =>
            $"The bot \"{BotName}\" uses {email}. Turn off its Email channel (or choose another address there) first.",
        DeleteAddressOutcome.HasTickets =>
            $"{Tickets} {(Tickets == 1 ? "ticket" : "tickets")} came in through {email}; they send their replies from it, so it stays. "
            + "To stop its mail, remove the redirect rule in your mail system.",
        DeleteAddressOutcome.NotFound => "This address was removed already.",
        _ => null,
    };
}

/// <summary>Adds, lists and removes corporate addresses; a new domain gets its DKIM keys on the first address.</summary>
public sealed class AddressDirectory(
    AppDbContext db,
    MailDomains domains,
    IOptions<ConnectiveOneOptions> options,
    TimeProvider time,
    ILogger<AddressDirectory> logger)
{
    /// <summary>The inbound domain, or null when it is not configured.</summary>
    public string? InboundDomain => string.IsNullOrWhiteSpace(options.Value.InboundDomain) ? null : options.Value.InboundDomain.Trim();

    public async Task<AddAddressResult> AddAsync(string? email, CancellationToken cancellationToken)
    {
        var parsed = EmailAddressRules.TryParse(email, out var problem);
        if (parsed is null)
            return new(null, AddAddressError.Invalid, problem);
        if (InboundDomain is not { } inbound)
            return new(null, AddAddressError.NoInboundDomain,
                "The inbound domain is not configured (ConnectiveOne:InboundDomain), so no technical address can be made.");

        if (await FindDuplicateAsync(parsed, cancellationToken) is { } existing)
            return existing;

        var domain = await db.Domains.FirstOrDefaultAsync(d => d.Name == parsed.Domain, cancellationToken)
            ?? domains.Create(parsed.Domain);
        if (domain.NextCheckAt is null)
            domain.NextCheckAt = time.GetUtcNow(); // the domain's addresses had all been removed: check it again

        string technical;
        do
        {
            technical = EmailAddressRules.TechnicalAddress(parsed, inbound, EmailAddressRules.RandomSuffix());
        }
        while (await db.Addresses.AnyAsync(a => a.TechnicalAddress == technical, cancellationToken));

        var address = new CorporateAddress
        {
            Email = parsed.Email,
            NormalizedEmail = parsed.NormalizedEmail,
            Domain = parsed.Domain,
            TechnicalAddress = technical,
            CreatedAt = time.GetUtcNow(),
        };
        db.Addresses.Add(address);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Added by someone else at the same moment: the unique index decided.
            db.ChangeTracker.Clear();
            return await FindDuplicateAsync(parsed, cancellationToken) ?? throw new InvalidOperationException("Saving the address failed.");
        }

        logger.LogInformation("Added address {AddressId} on domain {Domain}", address.Id, address.Domain);
        return new(await GetAsync(address.Id, cancellationToken));
    }

    public async Task<IReadOnlyList<AddressView>> ListAsync(CancellationToken cancellationToken) =>
        (await Query().ToListAsync(cancellationToken)).OrderBy(a => a.DisplayEmail, StringComparer.OrdinalIgnoreCase).ToArray();

    public async Task<AddressView?> GetAsync(Guid id, CancellationToken cancellationToken) =>
        await Query(id).FirstOrDefaultAsync(cancellationToken);

    /// <summary>The addresses of one domain (Unicode or punycode name).</summary>
    public async Task<IReadOnlyList<AddressView>> ListByDomainAsync(string domain, CancellationToken cancellationToken)
    {
        var ascii = EmailAddressRules.ToAsciiDomain(domain);
        return ascii is null ? [] : (await Query(domain: ascii).ToListAsync(cancellationToken))
            .OrderBy(a => a.DisplayEmail, StringComparer.OrdinalIgnoreCase).ToArray();
    }

    /// <summary>What removing the address would do now (the confirmation says it before the click); Deleted means it can go.</summary>
    public async Task<AddressRemoval> CheckRemovalAsync(Guid id, CancellationToken cancellationToken)
    {
        if (!await db.Addresses.AnyAsync(a => a.Id == id, cancellationToken))
            return new(DeleteAddressOutcome.NotFound);
        var bot = await db.Bots.Where(b => b.EmailAddressId == id).Select(b => b.Name).FirstOrDefaultAsync(cancellationToken);
        if (bot is not null)
            return new(DeleteAddressOutcome.UsedByBot, bot);
        // Tickets keep their address (replies go out from it): the database refuses to remove it under them.
        var tickets = await db.Tickets.CountAsync(t => t.AddressId == id, cancellationToken);
        return tickets > 0 ? new(DeleteAddressOutcome.HasTickets, Tickets: tickets) : new(DeleteAddressOutcome.Deleted);
    }

    /// <summary>Removes an address unless a bot uses it (then the bot's name says which) or tickets came in through it.</summary>
    public async Task<AddressRemoval> DeleteAsync(Guid id, CancellationToken cancellationToken)
    {
        var removal = await CheckRemovalAsync(id, cancellationToken);
        if (removal.Outcome != DeleteAddressOutcome.Deleted)
            return removal;
        var address = await db.Addresses.FirstAsync(a => a.Id == id, cancellationToken);

        db.Addresses.Remove(address);
        // The domain and its keys stay (a re-added address reuses them), but nobody needs its checks any more.
        if (!await db.Addresses.AnyAsync(a => a.Domain == address.Domain && a.Id != id, cancellationToken)
            && await db.Domains.FirstOrDefaultAsync(d => d.Name == address.Domain, cancellationToken) is { } domain)
            domain.NextCheckAt = null;
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Removed address {AddressId}", id);
        return removal;
    }

    private async Task<AddAddressResult?> FindDuplicateAsync(ParsedAddress parsed, CancellationToken cancellationToken)
    {
        var existing = await db.Addresses.Where(a => a.NormalizedEmail == parsed.NormalizedEmail)
            .Select(a => new { a.Id, a.Email }).FirstOrDefaultAsync(cancellationToken);
        return existing is null
            ? null
            : new(null, AddAddressError.Duplicate, $"{EmailAddressRules.ToDisplay(existing.Email)} is already added.", existing.Id);
    }

    private IQueryable<AddressView> Query(Guid? id = null, string? domain = null)
    {
        var addresses = db.Addresses.AsQueryable();
        if (id is not null)
            addresses = addresses.Where(a => a.Id == id);
        if (domain is not null)
            addresses = addresses.Where(a => a.Domain == domain);
        return from a in addresses
               join d in db.Domains on a.Domain equals d.Name
               from b in db.Bots.Where(b => b.EmailAddressId == a.Id).DefaultIfEmpty()
               select new AddressView(
                   a.Id, a.Email, EmailAddressRules.ToDisplay(a.Email), a.TechnicalAddress, a.Domain,
                   EmailAddressRules.ToUnicodeDomain(a.Domain), d.Status, a.Forwarding, a.ForwardingDetail,
                   a.LastReceivedAt, b == null ? (Guid?)null : b.Id, b == null ? null : b.Name, a.CreatedAt)
               {
                   DisplayName = a.DisplayName,
                   FromFormat = a.FromFormat,
                   Signature = a.Signature,
                   QuoteByDefault = a.QuoteByDefault,
               };
    }

    /// <summary>
    /// Sets how replies from an address present themselves: its display name, the From format, its signature and whether
    /// the composer quotes by default. Returns the address, null when there is none, or what is wrong in words.
    /// </summary>
    public async Task<(AddressView? Address, string? Error)> UpdateConversationAsync(Guid id, AddressConversationChange change,
        CancellationToken cancellationToken)
    {
        FromFormat? format = null;
        if (change.FromFormat is not null)
        {
            if (!Enum.TryParse<FromFormat>(change.FromFormat, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed)
                || int.TryParse(change.FromFormat, out _))
                return (null, "fromFormat must be Address or OperatorFromAddress.");
            format = parsed;
        }
        if (change.DisplayName is { } name && (name.Trim().Length > 200 || name.Any(char.IsControl)))
            return (null, "A display name is one line of at most 200 characters.");
        if (change.Signature is { Length: > 4000 })
            return (null, "A signature can be at most 4000 characters long.");
        var address = await db.Addresses.FirstOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (address is null)
            return (null, null);
        if (change.DisplayName is not null)
            address.DisplayName = change.DisplayName.Trim().Length == 0 ? null : change.DisplayName.Trim();
        if (format is { } f)
            address.FromFormat = f;
        if (change.Signature is not null)
            address.Signature = change.Signature.Trim().Length == 0 ? null : change.Signature.TrimEnd();
        if (change.QuoteByDefault is { } quote)
            address.QuoteByDefault = quote;
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Changed how replies from address {AddressId} present themselves", id);
        return (await GetAsync(id, cancellationToken), null);
    }
}
