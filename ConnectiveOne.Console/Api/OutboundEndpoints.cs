using System.Security.Claims;
using ConnectiveOne.Console.Features.Setup;
using ConnectiveOne.Core.Outbound;

namespace ConnectiveOne.Console.Api;

/// <summary>Step 5 of the setup over HTTP: test emails, forwarding tests and their history.</summary>
internal static class OutboundEndpoints
{
    public sealed record TestRequest(string? To);
    public sealed record TestResponse(string Status, string Detail);
    public sealed record TestHistoryItem(Guid Id, string Kind, string From, string To, bool DkimSigned, string Status, string? Detail,
        DateTimeOffset CreatedAt);

    public static void MapOutbound(this RouteGroupBuilder v1)
    {
        var addresses = v1.MapGroup("/addresses").ForAdmins().WithTags("Addresses");
        addresses.MapPost("/{id:guid}/test", async (Guid id, TestRequest request, ClaimsPrincipal user, TestMailService tests,
            TestMailThrottle throttle, CancellationToken ct) =>
        {
            if (!throttle.TryTake(UserId(user)))
                return TooMany();
            var (error, result) = await tests.SendTestAsync(id, request.To, UserId(user), ct);
            return error switch
            {
                TestMailError.InvalidRecipient => Problems.BadRequest($"'{request.To}' is not an email address; send 'to' as name@example.com."),
                TestMailError.AddressNotFound => Problems.NotFound("There is no address with that id."),
                _ => Results.Ok(new TestResponse(result!.Status.ToString(), result.Detail)),
            };
        });
        addresses.MapPost("/{id:guid}/forwarding-test", async (Guid id, ClaimsPrincipal user, TestMailService tests,
            TestMailThrottle throttle, CancellationToken ct) =>
        {
            if (!throttle.TryTake(UserId(user)))
                return TooMany();
            return await tests.QueueForwardingTestAsync(id, UserId(user), ct)
                ? Results.Accepted($"/api/v1/addresses/{id}")
                : Problems.NotFound("There is no address with that id.");
        });
        addresses.MapGet("/{id:guid}/tests", async (Guid id, TestMailService tests, CancellationToken ct) =>
            TypedResults.Ok((await tests.ListTestsAsync(id, ct: ct)).Select(t =>
                new TestHistoryItem(t.Id, t.Kind.ToString(), t.From, t.To, t.DkimSigned, t.Status.ToString(), t.Detail, t.CreatedAt))));
    }

    private static IResult TooMany() => Problems.Result(StatusCodes.Status429TooManyRequests, TestMailThrottle.TooMany);

    private static string? UserId(ClaimsPrincipal user) => user.FindFirstValue(ClaimTypes.NameIdentifier);
}
