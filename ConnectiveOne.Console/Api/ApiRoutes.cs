using ConnectiveOne.Console.Auth;

namespace ConnectiveOne.Console.Api;

internal static class ApiRoutes
{
    public static bool IsApi(PathString path) => path.StartsWithSegments("/api");

    /// <summary>Maps every API area. Each area decides its own authorization; a test checks none is left undecided.</summary>
    public static IEndpointRouteBuilder MapConnectiveOneApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", HealthEndpoint.GetAsync).AllowAnonymous().WithBodyLimit(RequestBodyLimits.None).WithTags("Health");
        var v1 = app.MapGroup("/api/v1");
        v1.MapTokens();
        v1.MapUsers();
        v1.MapInbound();
        v1.MapTickets();
        v1.MapNotifications();
        v1.MapSavedReplies();
        v1.MapTicketWorkflow();
        v1.MapDrafts();
        app.MapFiles();
        v1.MapAddresses();
        v1.MapDomains();
        v1.MapBots();
        v1.MapOutbound();
        return app;
    }

    /// <summary>Routes any signed-in API user may call.</summary>
    public static RouteGroupBuilder ForOperators(this RouteGroupBuilder group) => group.RequireAuthorization(Policies.ApiUser);

    /// <summary>Routes only an admin's token may call.</summary>
    public static RouteGroupBuilder ForAdmins(this RouteGroupBuilder group) => group.RequireAuthorization(Policies.ApiAdmin);
}
