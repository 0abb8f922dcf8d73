using ConnectiveOne.Core.Addresses;

namespace ConnectiveOne.Console.Api;

internal static class AddressesEndpoints
{
    public sealed record AddAddressRequest(string? Email);
    public sealed record ForwardingDto(string Status, DateTimeOffset? LastReceivedAt, string? Detail);

    /// <summary>API.md's Address; <c>email</c> and <c>domain</c> in Unicode as people wrote them, <c>asciiDomain</c> as DNS has it.</summary>
    public sealed record AddressDto(Guid Id, string Email, string TechnicalAddress, string Domain, string AsciiDomain,
        string DomainStatus, ForwardingDto Forwarding, Guid? BotId, string? BotName, DateTimeOffset CreatedAt,
        string? DisplayName, string FromFormat, string? Signature, bool QuoteByDefault);

    public static void MapAddresses(this RouteGroupBuilder v1)
    {
        var addresses = v1.MapGroup("/addresses").ForAdmins().WithTags("Addresses");
        addresses.MapPost("", AddAsync).WithMetadata(new ForbiddenTitle("Only admins can add addresses."));
        addresses.MapGet("", async (AddressDirectory directory, CancellationToken ct) =>
            TypedResults.Ok((await directory.ListAsync(ct)).Select(ToDto)));
        addresses.MapGet("/{id:guid}", async (Guid id, AddressDirectory directory, CancellationToken ct) =>
            await directory.GetAsync(id, ct) is { } address ? Results.Ok(ToDto(address)) : NotFound());
        addresses.MapPatch("/{id:guid}", async (Guid id, AddressConversationChange change, AddressDirectory directory, CancellationToken ct) =>
            await directory.UpdateConversationAsync(id, change, ct) switch
            {
                (_, { } error) => Problems.BadRequest(error),
                ({ } address, _) => Results.Ok(ToDto(address)),
                _ => NotFound(),
            }).WithMetadata(new ForbiddenTitle("Only admins can change addresses."));
        addresses.MapDelete("/{id:guid}", async (Guid id, AddressDirectory directory, CancellationToken ct) =>
            await directory.DeleteAsync(id, ct) switch
            {
                { Outcome: DeleteAddressOutcome.Deleted } => Results.NoContent(),
                { Outcome: DeleteAddressOutcome.UsedByBot, BotName: var bot } => Problems.Conflict(
                    $"The bot \"{bot}\" uses this address. Turn off its Email channel (or choose another address there) first."),
                { Outcome: DeleteAddressOutcome.HasTickets } removal => Problems.Conflict(removal.Blocked("this address")!),
                _ => NotFound(),
            }).WithMetadata(new ForbiddenTitle("Only admins can remove addresses."));
    }

    private static async Task<IResult> AddAsync(AddAddressRequest request, AddressDirectory directory, CancellationToken ct)
    {
        var result = await directory.AddAsync(request.Email, ct);
        return result switch
        {
            { Address: { } address } => TypedResults.Created($"/api/v1/addresses/{address.Id}", ToDto(address)),
            { Error: AddAddressError.Duplicate } => Problems.With(StatusCodes.Status409Conflict, result.Message!,
                "Open the existing address instead of adding it again.",
                new Dictionary<string, object?> { ["addressId"] = result.ExistingId, ["address"] = $"/api/v1/addresses/{result.ExistingId}" }),
            _ => Problems.BadRequest(result.Message ?? "The address cannot be added."),
        };
    }

    private static IResult NotFound() => Problems.NotFound("There is no address with that id.");

    internal static AddressDto ToDto(AddressView a) =>
        new(a.Id, a.DisplayEmail, a.TechnicalAddress, a.DisplayDomain, a.Domain, a.DomainStatus.ToString(),
            new ForwardingDto(a.Forwarding.ToString(), a.LastReceivedAt, a.ForwardingDetail), a.BotId, a.BotName, a.CreatedAt,
            a.DisplayName, a.FromFormat.ToString(), a.Signature, a.QuoteByDefault);
}
