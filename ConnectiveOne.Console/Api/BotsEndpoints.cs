using ConnectiveOne.Core.Bots;

namespace ConnectiveOne.Console.Api;

internal static class BotsEndpoints
{
    public sealed record CreateBotRequest(string? Name);
    public sealed record BindEmailRequest(Guid? AddressId);

    public static void MapBots(this RouteGroupBuilder v1)
    {
        var bots = v1.MapGroup("/bots").ForAdmins().WithTags("Bots");
        bots.MapGet("", async (BotService service, CancellationToken ct) => TypedResults.Ok(await service.ListAsync(ct)));
        bots.MapGet("/{id:guid}", async (Guid id, BotService service, CancellationToken ct) =>
            await service.FindAsync(id, ct) is { } bot ? Results.Ok(bot) : Problems.NotFound("There is no bot with that id."));
        bots.MapPost("", async (CreateBotRequest request, BotService service, CancellationToken ct) =>
            ToResult(await service.CreateAsync(request.Name, ct), created: true));
        bots.MapPut("/{id:guid}/email", async (Guid id, BindEmailRequest request, BotService service, CancellationToken ct) =>
            request.AddressId is { } addressId
                ? ToResult(await service.BindEmailAsync(id, addressId, ct), created: false)
                : Problems.BadRequest("Send the 'addressId' of the address this bot should use."));
        bots.MapDelete("/{id:guid}/email", async (Guid id, BotService service, CancellationToken ct) =>
            await service.UnbindEmailAsync(id, ct) is null ? Problems.NotFound("There is no bot with that id.") : Results.NoContent());
    }

    private static IResult ToResult(BotResult result, bool created) => result switch
    {
        { Bot: { } bot } when created => TypedResults.Created($"/api/v1/bots/{bot.Id}", bot),
        { Bot: { } bot } => TypedResults.Ok(bot),
        { Error: BotError.NotFound } => Problems.NotFound(result.Message!),
        { Error: BotError.Conflict } => Problems.Conflict(result.Message!),
        { Error: BotError.NotVerified } => Problems.Result(StatusCodes.Status422UnprocessableEntity, result.Message!),
        _ => Problems.BadRequest(result.Message ?? "The request is not valid."),
    };
}
