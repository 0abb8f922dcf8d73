using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Core.Outbound;

public static class OutboundServiceRegistration
{
    /// <summary>The outbox, relay client, composer, replies, forwards, new tickets and test mail, and the worker that sends queued mail.</summary>
    public static IServiceCollection AddOutbound(this IServiceCollection services)
    {
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
        services.AddScoped<TicketMailQueue>();
        services.AddScoped<Forwarding.ForwardService>();
        services.AddScoped<NewTickets.NewTicketService>();
        services.AddScoped<TestMailService>();
        services.AddHostedService<OutboxWorker>();
        return services;
    }
}
