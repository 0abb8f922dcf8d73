using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Core.Tickets;

public static class TicketsServiceRegistration
{
    /// <summary>Operators' work on tickets: the inbox's queries, status and assignment, unread marks, counts, and who is viewing.</summary>
    public static IServiceCollection AddTickets(this IServiceCollection services)
    {
        services.AddScoped<TicketQueries>();
        services.AddScoped<TicketCommands>();
        services.AddScoped<TicketWorkflow>();
        services.AddScoped<TicketReads>();
        services.AddScoped<TicketDrafts>();
        services.AddSingleton<TicketCounts>();
        services.AddSingleton<TicketPresence>();
        services.AddHostedService<SnoozeWorker>();
        return services;
    }
}
