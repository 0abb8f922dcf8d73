using ConnectiveOne.Console.Api;
using ConnectiveOne.Console.Auth;
using ConnectiveOne.Console.Components;
using ConnectiveOne.Console.Components.Layout;
using ConnectiveOne.Console.Features.Setup;
using ConnectiveOne.Console.Features.Account;
using ConnectiveOne.Console.Live;
using ConnectiveOne.Console.State;
using ConnectiveOne.Core;
using ConnectiveOne.Core.Accounts;
using ConnectiveOne.Core.Nodes;
using ConnectiveOne.Core.Persistence;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.FileProviders;
using MudBlazor.Services;
using Serilog;
using Serilog.Events;
using StackExchange.Redis;

namespace ConnectiveOne.Console;

internal static class ConsoleServiceRegistration
{
    public static IServiceCollection AddConnectiveOneConsole(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddRazorComponents().AddInteractiveServerComponents();
        // Toasts at the top centre, over the app bar's empty middle: the controls an operator uses sit in the panes below
        // (status and assignee at the top right, Send at the bottom right), and a toast must not cover the one just used.
        services.AddMudServices(mud => mud.SnackbarConfiguration.PositionClass = MudBlazor.Defaults.Classes.Position.TopCenter);
        services.AddCascadingAuthenticationState();
        services.AddLiveAuthentication();
        services.AddConnectiveOneStore();

        var dataProtection = services.AddDataProtection().SetApplicationName("ConnectiveOne");
        // On PostgreSQL the key ring lives in the database so every node reads the same cookies, antiforgery tokens and
        // DKIM keys. SQLite keeps it in the data folder as before: moving it would strand what existing keys protect.
        if (configuration.GetValue<DatabaseProvider>($"{ConnectiveOneOptions.Section}:Database:Provider") == DatabaseProvider.Postgres)
            dataProtection.PersistKeysToDbContext<AppDbContext>();
        else
        {
            var dataDirectory = configuration[$"{ConnectiveOneOptions.Section}:DataDirectory"] ?? "./data";
            dataProtection.PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(Path.GetFullPath(dataDirectory), "keys")));
        }

        services.AddAuthentication(options =>
            {
                options.DefaultScheme = AuthSchemes.Smart;
                options.DefaultChallengeScheme = AuthSchemes.Smart;
            })
            .AddPolicyScheme(AuthSchemes.Smart, "Cookie or bearer", options =>
                options.ForwardDefaultSelector = AuthSchemes.Select)
            .AddScheme<AuthenticationSchemeOptions, BearerTokenHandler>(AuthSchemes.Bearer, null)
            .AddIdentityCookies();
        services.ConfigureApplicationCookie(cookie =>
        {
            cookie.LoginPath = "/account/login";
            cookie.Cookie.Name = "ConnectiveOne.Auth";
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Lax;
            // Secure whenever the request came over HTTPS (directly or through a known proxy, see ReverseProxy), and
            // always when the public address is HTTPS.
            cookie.Cookie.SecurePolicy = IsHttps(configuration[$"{ConnectiveOneOptions.Section}:PublicUrl"])
                ? CookieSecurePolicy.Always
                : CookieSecurePolicy.SameAsRequest;
            cookie.ExpireTimeSpan = TimeSpan.FromDays(7);
            cookie.SlidingExpiration = true;
            // The live hub and the OpenAPI document are not pages: a client without a session gets 401, not the sign-in form.
            cookie.Events.OnRedirectToLogin = context =>
            {
                if (context.Request.Path.StartsWithSegments(LiveHub.Path) || context.Request.Path.StartsWithSegments("/openapi"))
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                else
                    context.Response.Redirect(context.RedirectUri);
                return Task.CompletedTask;
            };
            // Signing in on the sign-in page follows its ?ReturnUrl= by itself: only a local path, percent-encoded, since a
            // non-ASCII Location header is refused by the server (500).
            cookie.Events.OnRedirectToReturnUrl = context =>
            {
                context.Response.Redirect(Login.SafeReturnUrl(context.RedirectUri));
                return Task.CompletedTask;
            };
            // Render the "not allowed" page at the URL that was asked for, with a 403 (status code pages re-execute).
            cookie.Events.OnRedirectToAccessDenied = context =>
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                return Task.CompletedTask;
            };
        });
        // A cookie is re-checked against the user's security stamp this often: a new password, sign-out everywhere,
        // a role change or deactivation ends the user's other sessions within this time (open circuits: see
        // LiveAuthenticationStateProvider).
        services.Configure<SecurityStampValidatorOptions>(o => o.ValidationInterval = TimeSpan.FromSeconds(5));

        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder()
                .RequireAuthenticatedUser().Build())
            .AddPolicy(Policies.Admin, p => p.RequireAuthenticatedUser().RequireRole(Roles.Admin))
            .AddPolicy(Policies.ApiUser, p => p.AddAuthenticationSchemes(AuthSchemes.Bearer).RequireAuthenticatedUser())
            .AddPolicy(Policies.ApiAdmin, p => p.AddAuthenticationSchemes(AuthSchemes.Bearer).RequireAuthenticatedUser()
                .RequireRole(Roles.Admin));

        services.AddSignInThrottle();
        services.AddTestMailThrottle();
        services.AddSingleton<InboundEndpoints.MailgunReadSlots>();
        services.AddReverseProxySupport();
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ApiErrors.Describe);
        services.AddOpenApiDocument();
        services.AddHttpContextAccessor();
        services.AddScoped<ThemePreference>();
        services.AddScoped<Features.Inbox.OperatorTimeZone>();
        services.AddHealthChecks();
        var signalR = services.AddSignalR();
        var redis = configuration[$"{ConnectiveOneOptions.Section}:Redis"];
        if (!string.IsNullOrWhiteSpace(redis))
        {
            // Hub messages reach the clients connected to every node; a node keeps starting while Redis is down.
            signalR.AddStackExchangeRedis(redis, o =>
            {
                o.Configuration.ChannelPrefix = RedisChannel.Literal(NodeBus.ChannelPrefix);
                o.Configuration.AbortOnConnectFail = false;
            });
        }
        services.AddHostedService<LiveEventsBridge>();
        services.AddSingleton<LiveSessionGuard>();
        services.AddHostedService(sp => sp.GetRequiredService<LiveSessionGuard>());
        return services;
    }

    // Scripts, styles, the circuit's socket and health probes answered fine are routine: Debug, so the Information log
    // shows what people and integrations did. Server errors are errors whatever the path.
    private static LogEventLevel RequestLogLevel(HttpContext context, double elapsed, Exception? error) =>
        error is not null || context.Response.StatusCode >= 500 ? LogEventLevel.Error
        : context.Response.StatusCode < 400 && RoutineRequestPaths.Any(p => context.Request.Path.StartsWithSegments(p)) ? LogEventLevel.Debug
        : LogEventLevel.Information;

    private static readonly string[] RoutineRequestPaths = ["/_framework", "/_content", "/_blazor", "/assets", "/health"];

    public static WebApplication UseConnectiveOne(this WebApplication app)
    {
        app.UseForwardedHeaders();
        // The app's own logger: its static one is left silent (see Logging), and would swallow every request line.
        app.UseSerilogRequestLogging(o =>
        {
            o.Logger = app.Services.GetRequiredService<Serilog.ILogger>();
            o.GetLevel = RequestLogLevel;
        });
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler(new ExceptionHandlerOptions
            {
                ExceptionHandlingPath = "/error",
                CreateScopeForErrors = true,
                // A body over a route's limit (RequestBodyLimits) is the client's error, not ours.
                StatusCodeSelector = e => e is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
            });
            // Only on HTTPS requests (directly or through a known proxy) and never for localhost.
            app.UseHsts();
        }
        app.UseApiProblemDetailsForErrors();
        app.UseSecurityHeaders();
        app.UseWebSocketOriginCheck();
        app.UseAppAssets();

        // API errors get problem details; pages get a rendered error page at the same URL.
        app.UseWhen(c => ApiRoutes.IsApi(c.Request.Path), api => api.UseStatusCodePages());
        app.UseWhen(c => !ApiRoutes.IsApi(c.Request.Path) && !c.Request.Path.StartsWithSegments(LiveHub.Path),
            pages => pages.UseStatusCodePagesWithReExecute("/error/{0}", createScopeForStatusCodePages: true));

        // Routing after the status code pages, so a re-executed request (/error/403) is routed again.
        app.UseRouting();
        app.UseRateLimiter();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseOutputCache();
        app.UseAntiforgery();

        app.MapStaticAssets().AllowAnonymous();
        app.MapOpenApiDocument();
        app.MapConnectiveOneApi();
        app.MapAccountEndpoints();
        // Any signed-in user: the cookie for browsers, a bearer token (?access_token=) for integrations.
        app.MapHub<LiveHub>(LiveHub.Path).RequireAuthorization();
        app.MapRazorComponents<App>()
            .AddInteractiveServerRenderMode()
            .Add(endpoint =>
            {
                // Pages take only the small forms a person fills in (sign-in, first admin, password), read before any check.
                if (endpoint.Metadata.OfType<ComponentTypeMetadata>().Any())
                    endpoint.Metadata.Add(RequestBodyLimits.Metadata(RequestBodyLimits.PageForm));
            });

        app.Lifetime.ApplicationStarted.Register(() => FirstRunBanner.Print(app));
        return app;
    }

    private static bool IsHttps(string? url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps;

    /// <summary>
    /// Serves <c>wwwroot-assets</c> (our CSS, logo, favicon) at <c>/assets</c>, embedded in the assembly so the
    /// single file carries them. Placed before authentication: the login page needs them too.
    /// </summary>
    private static void UseAppAssets(this WebApplication app)
    {
        var assets = new ManifestEmbeddedFileProvider(typeof(ConsoleServiceRegistration).Assembly, "wwwroot-assets");
        app.UseStaticFiles(new StaticFileOptions { FileProvider = assets, RequestPath = "/assets" });
    }
}
