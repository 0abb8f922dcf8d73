using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Core.Nodes;

public static class NodesServiceRegistration
{
    /// <summary>The node's identity and the Redis bus between nodes (idle without <c>ConnectiveOne:Redis</c>).</summary>
    public static IServiceCollection AddNodes(this IServiceCollection services)
    {
        services.AddSingleton<NodeIdentity>();
        services.AddSingleton<NodeBus>();
        services.AddHostedService(sp => sp.GetRequiredService<NodeBus>());
        return services;
    }
}
