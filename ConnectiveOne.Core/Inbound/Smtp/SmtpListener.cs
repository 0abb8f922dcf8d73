using System.Net;
using ConnectiveOne.Core.Inbound.Intake;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SmtpServer;

namespace ConnectiveOne.Core.Inbound.Smtp;

/// <summary>
/// Runs the inbound SMTP server on <c>ConnectiveOne:Smtp:Listen</c> (<c>host:port</c>, or <c>off</c>). It only
/// receives for our technical addresses and never relays; SIZE is advertised and enforced strictly.
/// </summary>
public sealed class SmtpListener(IServiceProvider services, IOptions<ConnectiveOneOptions> options, ILogger<SmtpListener> logger)
    : BackgroundService
{
    private readonly TaskCompletionSource<IPEndPoint?> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes with the endpoint listened on (port 0 resolved), or null when SMTP is off.</summary>
    public Task<IPEndPoint?> Started => _started.Task;

    /// <summary>Parses <c>host:port</c> (IPv6 in brackets); null for <c>off</c> or an empty value.</summary>
    public static IPEndPoint? ParseListen(string? listen)
    {
        if (string.IsNullOrWhiteSpace(listen) || listen.Trim().Equals("off", StringComparison.OrdinalIgnoreCase))
            return null;
        var value = listen.Trim();
        if (value.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase))
            value = "127.0.0.1" + value["localhost".Length..];
        if (value.StartsWith('*') || value.StartsWith("0.0.0.0", StringComparison.Ordinal))
            value = "0.0.0.0" + value[value.LastIndexOf(':')..];
        return IPEndPoint.TryParse(value, out var endpoint) && endpoint.Port is >= 0 and <= 65535 && value.Contains(':')
            ? endpoint
            : throw new InvalidOperationException($"ConnectiveOne:Smtp:Listen must be host:port or \"off\", not \"{listen}\".");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var smtp = options.Value.Smtp;
        IPEndPoint? endpoint;
        try
        {
            endpoint = ParseListen(smtp.Listen);
        }
        catch (Exception ex)
        {
            _started.TrySetException(ex);
            throw;
        }
        if (endpoint is null)
        {
            logger.LogInformation("Inbound SMTP is off (ConnectiveOne:Smtp:Listen = off)");
            _started.TrySetResult(null);
            return;
        }

        services.GetRequiredService<MessageSpool>().DeleteLeftovers();
        var maxBytes = (int)Math.Min(smtp.MaxMessageBytes, int.MaxValue);
        var serverOptions = new SmtpServerOptionsBuilder()
            .ServerName(options.Value.InboundDomain)
            .Endpoint(e => e.Endpoint(endpoint).SessionTimeout(TimeSpan.FromMinutes(10)))
            .MaxMessageSize(maxBytes, MaxMessageSizeHandling.Strict)
            // The idle limit is the listener's (421, in DATA too); SmtpServer's own limit, a second later, only ends a
            // command line trickled in too slowly (it answers 221).
            .CommandWaitTimeout(TimeSpan.FromSeconds(smtp.CommandTimeoutSeconds + 1))
            .MaxRetryCount(5)
            .Build();

        var listeners = new NoDelayEndpointListenerFactory(
            new SessionLimits(smtp.MaxSessions, smtp.MaxSessionsPerAddress, smtp.MaxSessionsPerNetwork),
            new MessageBufferBudget(smtp.BufferedBytesLimit), smtp.MaxMessageBytes, TimeSpan.FromSeconds(smtp.CommandTimeoutSeconds), logger);
        var provider = new SmtpServer.ComponentModel.ServiceProvider();
        provider.Add(listeners);
        provider.Add(new RecipientFilter(services.GetRequiredService<TechnicalAddressLookup>(),
            services.GetRequiredService<DiskSpaceGuard>(), smtp.MaxRecipients, smtp.MaxMessageBytes, logger));
        provider.Add(ActivatorUtilities.CreateInstance<IntakeMessageStore>(services));

        var server = new SmtpServer.SmtpServer(serverOptions, provider);
        server.SessionFaulted += (_, e) => logger.LogDebug(e.Exception, "SMTP session ended with an error");
        var running = server.StartAsync(stoppingToken);
        // The listener binds synchronously inside StartAsync's first steps; wait briefly for it.
        for (var i = 0; i < 200 && listeners.BoundEndpoint is null && !running.IsCompleted; i++)
            await Task.Delay(10, CancellationToken.None);
        if (running.IsFaulted || listeners.BoundEndpoint is null)
        {
            var error = running.Exception?.InnerException ?? new InvalidOperationException($"Inbound SMTP could not listen on {endpoint}.");
            logger.LogError(error, "Inbound SMTP could not listen on {Endpoint}", endpoint);
            _started.TrySetException(error);
            await running;
            return;
        }
        logger.LogInformation("Inbound SMTP listening on {Endpoint}", listeners.BoundEndpoint);
        _started.TrySetResult(listeners.BoundEndpoint);
        try
        {
            await running;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
