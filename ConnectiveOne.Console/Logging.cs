using ConnectiveOne.Core;
using Serilog;
using Serilog.Debugging;
using Serilog.Events;

namespace ConnectiveOne.Console;

internal static class Logging
{
    /// <summary>
    /// Serilog to the console and a daily rolling file in <c>data/logs</c>. Levels can be tuned under
    /// <c>Serilog:MinimumLevel</c>. Messages carry ids and counts as properties, never secrets or mail bodies.
    /// </summary>
    public static void AddConnectiveOneLogging(this WebApplicationBuilder builder)
    {
        var dataDirectory = builder.Configuration[$"{ConnectiveOneOptions.Section}:DataDirectory"] ?? "./data";
        var logFolder = Path.Combine(Path.GetFullPath(dataDirectory), "logs");
        // A sink that cannot write (full disk, the shared log file's lock not acquired in time) drops events; say so
        // on stderr, or the gap in the log file has no explanation.
        SelfLog.Enable(System.Console.Error);
        // The app's own logger, not Serilog's static one: several apps in one process (the tests') would otherwise
        // write to whichever started last, and stopping one would close the others' files.
        builder.Services.AddSerilog(preserveStaticLogger: true, configureLogger: (services, log) => log
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.EntityFrameworkCore", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.Hosting.Lifetime", LogEventLevel.Information)
            .ReadFrom.Configuration(builder.Configuration)
            .ReadFrom.Services(services)
            .Enrich.FromLogContext()
            // Last, so it sees every property the others added.
            .Enrich.With<ControlCharacterEscaper>()
            .WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}")
            .WriteTo.File(Path.Combine(logFolder, "connectiveone-.log"), rollingInterval: RollingInterval.Day,
                retainedFileCountLimit: 14, shared: true,
                outputTemplate: "{Timestamp:o} [{Level:u3}] {SourceContext}: {Message:lj} {Properties:j}{NewLine}{Exception}"));
    }
}
