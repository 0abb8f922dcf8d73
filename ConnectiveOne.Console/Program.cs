using ConnectiveOne.Console;
using ConnectiveOne.Core;

FilePrivacy.RestrictNewFiles();
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    // A published app finds its browser files (wwwroot/) beside the executable, wherever it is started from.
    // (A build output has no wwwroot/: there the SDK's static web assets manifest points at the packages.)
    ContentRootPath = Directory.Exists(Path.Combine(AppContext.BaseDirectory, "wwwroot")) ? AppContext.BaseDirectory : null,
});
FilePrivacy.RestrictDataFolder(builder.Configuration);
builder.AddConnectiveOneLogging();
builder.Services.AddConnectiveOneCore();
builder.Services.AddConnectiveOneConsole(builder.Configuration);

var app = builder.Build();
app.UseConnectiveOne();

await app.RunAsync();

/// <summary>Entry point; public so WebApplicationFactory can start the app in tests.</summary>
public partial class Program;
