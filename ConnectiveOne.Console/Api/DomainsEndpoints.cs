using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Dns;

namespace ConnectiveOne.Console.Api;

internal static class DomainsEndpoints
{
    public sealed record RecordDto(string Purpose, bool Required, string Type, string Host, string Value,
        IReadOnlyList<string> Found, string Status, string? Hint);

    /// <summary>
    /// API.md's Domain; <c>name</c> in Unicode, <c>asciiName</c> as DNS has it, <c>hint</c> about the whole domain,
    /// <c>attemptedAt</c> when verification was first tried (Verify Now, or our records seen in DNS): before it, a
    /// Pending domain is "not verified yet" and cannot be Failed.
    /// </summary>
    public sealed record DomainDto(string Name, string AsciiName, string Status, DateTimeOffset? CheckedAt, DateTimeOffset? NextCheckAt,
        string? Hint, IReadOnlyList<RecordDto> Records, string ZoneFile, IReadOnlyList<AddressesEndpoints.AddressDto> Addresses,
        DateTimeOffset? AttemptedAt);

    public static void MapDomains(this RouteGroupBuilder v1)
    {
        var domains = v1.MapGroup("/domains").ForAdmins().WithTags("Domains");
        domains.MapGet("/{name}", async (string name, MailDomains mailDomains, AddressDirectory addresses, CancellationToken ct) =>
            await ToResultAsync(await mailDomains.GetAsync(name, ct), addresses, ct));
        domains.MapPost("/{name}/verify", async (string name, MailDomains mailDomains, AddressDirectory addresses, CancellationToken ct) =>
            await ToResultAsync(await mailDomains.VerifyAsync(name, ct), addresses, ct));
    }

    private static async Task<IResult> ToResultAsync(DomainView? domain, AddressDirectory addresses, CancellationToken ct)
    {
        if (domain is null)
            return Problems.NotFound("No address on that domain has been added, so ConnectiveOne does not know the domain.");
        var onDomain = await addresses.ListByDomainAsync(domain.Name, ct);
        return Results.Ok(new DomainDto(
            domain.DisplayName, domain.Name, domain.Status.ToString(), domain.CheckedAt, domain.NextCheckAt, domain.Hint,
            domain.Records.Select(r => new RecordDto(r.Purpose.ToString(), r.Required, r.Type, r.Host, r.Value, r.Found, r.Status.ToString(), r.Hint)).ToArray(),
            domain.ZoneFile,
            onDomain.Select(AddressesEndpoints.ToDto).ToArray(),
            domain.AttemptedAt));
    }
}
