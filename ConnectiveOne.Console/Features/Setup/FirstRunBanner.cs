using ConnectiveOne.Core;
using ConnectiveOne.Core.Accounts;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Console.Features.Setup;

/// <summary>
/// On an instance nobody has claimed, prints the one-time setup link once the server listens (the token is
/// also in <c>data/setup-token</c>). The link goes to the console (standard output) only, never through the logger:
/// log files may be read by more people than the one who started the app, and whoever holds the link becomes admin.
/// The log says where to find it.
/// </summary>
internal static class FirstRunBanner
{
    public static void Print(WebApplication app) => _ = PrintAsync(app);

    private static async Task PrintAsync(WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ConnectiveOne.FirstRun");
        try
        {
            await using var scope = app.Services.CreateAsyncScope();
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            var token = await app.Services.GetRequiredService<FirstRunSetup>().EnsureTokenAsync(users);
            if (token is null)
                return;
            var link = $"{BaseUrl(app)}/setup/first-admin?token={token}";
            var tokenFile = app.Services.GetRequiredService<FirstRunSetup>().TokenPath;
            logger.LogWarning("No users yet. The one-time link to create the first admin is printed on the console (standard output); its token is also in {TokenFile}",
                tokenFile);
            await System.Console.Out.WriteLineAsync($"No users yet. Create the first admin at {link} (one-time link; the token is also in {tokenFile})");
            await System.Console.Out.FlushAsync();
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Could not prepare the first-run setup link");
        }
    }

    private static string BaseUrl(WebApplication app)
    {
        var configured = app.Services.GetRequiredService<IOptions<ConnectiveOneOptions>>().Value.PublicUrl;
        if (!string.IsNullOrWhiteSpace(configured))
            return configured.TrimEnd('/');
        var address = app.Services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
                      ?? "http://localhost:5000";
        return address.Replace("://[::]", "://localhost").Replace("://0.0.0.0", "://localhost").Replace("://+", "://localhost").TrimEnd('/');
    }
}
