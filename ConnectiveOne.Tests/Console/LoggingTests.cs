using ConnectiveOne.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ConnectiveOne.Tests.Console;

/// <summary>Each app writes to its own log file, also when several run in one process as the tests' apps do.</summary>
public sealed class LoggingTests
{
    [Fact]
    public async Task Apps_in_one_process_write_their_own_log_files_and_stopping_one_leaves_the_other_logging()
    {
        await using var first = new TestApp();
        _ = first.Services;
        var second = new TestApp();
        _ = second.Services;

        // A category first asks for after second started: Serilog's static logger then belonged to second.
        Write(first, "marker-first-before");
        Write(second, "marker-second");
        var secondLog = await second.WaitForLogsAsync(log => log.Contains("marker-second"));
        await second.DisposeAsync();
        Write(first, "marker-first-after");

        var firstLog = await first.WaitForLogsAsync(log => log.Contains("marker-first-after"));
        Assert.Contains("marker-second", secondLog);
        Assert.DoesNotContain("marker-first", secondLog);
        Assert.True(firstLog.Contains("marker-first-before") && firstLog.Contains("marker-first-after"),
            $"first's log ({first.DescribeLogFiles()}) misses its own events:\n{firstLog}");
        Assert.DoesNotContain("marker-second", firstLog);
    }

    [Fact]
    public async Task Each_request_is_logged_with_method_path_and_status_but_not_its_query_and_routine_ones_only_below_information()
    {
        await using var app = new TestApp();
        var api = app.CreateApiClient();
        (await api.GetAsync("/api/v1/tickets?q=query-secret-4711")).EnsureSuccessStatusCode();
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await api.GetAsync("/api/v1/tickets/987654")).StatusCode);
        (await api.GetAsync("/assets/app.css")).EnsureSuccessStatusCode();
        (await api.GetAsync("/health")).EnsureSuccessStatusCode();

        // The 404 is the last request the log has to show: once it is there, the ones before it are too.
        var log = await app.WaitForLogsAsync(l => l.Contains("HTTP GET /api/v1/tickets/987654 responded 404", StringComparison.Ordinal));
        Assert.Contains("[INF] Serilog.AspNetCore.RequestLoggingMiddleware: HTTP GET /api/v1/tickets/987654 responded 404", log, StringComparison.Ordinal);
        Assert.Contains("HTTP GET /api/v1/tickets responded 200", log, StringComparison.Ordinal);
        Assert.DoesNotContain("query-secret-4711", log, StringComparison.Ordinal);
        Assert.DoesNotContain("HTTP GET /assets/app.css", log, StringComparison.Ordinal);
        Assert.DoesNotContain("HTTP GET /health", log, StringComparison.Ordinal);
    }

    private static void Write(TestApp app, string marker) =>
        app.Services.GetRequiredService<ILoggerFactory>().CreateLogger($"ConnectiveOne.Tests.{marker}")
            .LogWarning("Test event {Marker}", marker);
}
