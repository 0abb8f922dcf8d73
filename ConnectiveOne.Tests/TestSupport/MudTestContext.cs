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
    }

    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();
}
