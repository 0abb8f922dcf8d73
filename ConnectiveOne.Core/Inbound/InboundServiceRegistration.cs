using ConnectiveOne.Core.Inbound.Intake;
using ConnectiveOne.Core.Inbound.Smtp;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Core.Inbound;

public static class InboundServiceRegistration
{
    /// <summary>Intake (prepare + group-commit writer) and the SMTP listener.</summary>
    public static IServiceCollection AddInbound(this IServiceCollection services)
    {
        services.AddSingleton<TechnicalAddressLookup>();
        services.AddSingleton<MessageSpool>();
        services.AddSingleton<MessagePreparer>();
        services.AddSingleton<InboundIntake>();
        services.AddSingleton<IntakeWriter>();
        services.AddSingleton<DiskSpaceGuard>();
        services.AddSingleton<SmtpListener>();
        services.AddSingleton<MailgunVerifier>();
        // The writer starts before the listener, so the first message never waits for it.
        services.AddHostedService(sp => sp.GetRequiredService<IntakeWriter>());
        services.AddHostedService(sp => sp.GetRequiredService<SmtpListener>());
        return services;
    }
}
