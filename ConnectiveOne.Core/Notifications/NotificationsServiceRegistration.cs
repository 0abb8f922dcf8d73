using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Core.Notifications;

public static class NotificationsServiceRegistration
{
    /// <summary>Users' notifications (reading, marking, settings) and the worker that emails those asked for by email.</summary>
    public static IServiceCollection AddNotifications(this IServiceCollection services)
    {
        services.AddScoped<NotificationCenter>();
        services.AddHostedService<NotificationMailer>();
        return services;
    }
}
