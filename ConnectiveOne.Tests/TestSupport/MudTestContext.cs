using Bunit;
using MudBlazor.Services;

namespace ConnectiveOne.Tests.TestSupport;

/// <summary>
/// A bUnit context set up like MudBlazor's own tests: loose JS interop and the Mud services. Disposed
/// asynchronously, as some MudBlazor services only support that.
/// </summary>
public abstract class MudTestContext : BunitContext, IAsyncLifetime
{
    protected MudTestContext()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        // Per circuit in the app: the browser's time zone for the times the inbox shows (UTC until it is told).
        Services.AddScoped<ConnectiveOne.Console.Features.Inbox.OperatorTimeZone>();
    }

    // A circuit's renderer: store components follow the store only when rendered interactively (prerendering does not).
    // Set here, after the subclasses' constructors added their services: setting it builds the renderer, which closes them.
    Task IAsyncLifetime.InitializeAsync()
    {
        SetRendererInfo(new Microsoft.AspNetCore.Components.RendererInfo("Server", isInteractive: true));
        return Task.CompletedTask;
    }

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();
}
