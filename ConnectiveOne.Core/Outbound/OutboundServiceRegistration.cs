using ConnectiveOne.Core.Tickets;
using MailKit.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Core.Outbound;

public static class OutboundServiceRegistration
{
    /// <summary>The outbox, relay client, composer, replies and test mail, and the worker that sends queued mail.</summary>
    public static IServiceCollection AddOutbound(this IServiceCollection services)
    {
        services.AddOptions<ConnectiveOneOptions>()
            .Validate(o => Enum.TryParse<SecureSocketOptions>(o.Outbound.Security, ignoreCase: true, out _),
                "ConnectiveOne:Outbound:Security must be None, StartTls, SslOnConnect or Auto.")
            .Validate(o => RetrySchedule.TryParse(o.Outbound.RetryDelays, o.Outbound.GiveUpAfter, out _),
                "ConnectiveOne:Outbound:RetryDelays must be comma-separated durations such as 00:01:00,00:05:00, and GiveUpAfter positive.")
            .Validate(o => o.Outbound.Timeout > TimeSpan.Zero && o.Outbound.PollInterval > TimeSpan.Zero,
                "ConnectiveOne:Outbound:Timeout and PollInterval must be positive.");

        services.AddSingleton(sp =>
        {
            var outbound = sp.GetRequiredService<IOptions<ConnectiveOneOptions>>().Value.Outbound;
            RetrySchedule.TryParse(outbound.RetryDelays, outbound.GiveUpAfter, out var schedule);
            return schedule;
        });
        services.AddSingleton<RelayClient>();
        services.AddSingleton<OutboxSignal>();
        services.AddScoped<OutboundComposer>();
        services.AddScoped<OutboxDelivery>();
        services.AddScoped<ReplyService>();
        services.AddScoped<TestMailService>();
        services.AddHostedService<OutboxWorker>();
        return services;
    }
}
