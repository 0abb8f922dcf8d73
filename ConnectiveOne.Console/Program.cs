using ConnectiveOne.Console;
using ConnectiveOne.Core;
using Serilog;

var builder = WebApplication.CreateBuilder(args);
builder.AddConnectiveOneLogging();
builder.Services.AddConnectiveOneCore();
builder.Services.AddConnectiveOneConsole(builder.Configuration);

var app = builder.Build();
app.UseConnectiveOne();

try
{
    await app.RunAsync();
}
catch (Exception ex) when (ex is not HostAbortedException)
{
    Log.Fatal(ex, "ConnectiveOne stopped because of an error at start");
    throw;
}
finally
{
    await Log.CloseAndFlushAsync();
}

/// <summary>Entry point; public so WebApplicationFactory can start the app in tests.</summary>
public partial class Program;
