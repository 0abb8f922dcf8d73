using ConnectiveOne.Core.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ConnectiveOne.Core.Search;

/// <summary>The executable's <c>reindex</c> command (API.md "Operations").</summary>
public static class SearchCommands
{
    /// <summary>
    /// Applies pending migrations, then rebuilds the search index from the stored messages, with progress in the log.
    /// Run it with the app stopped or running: each batch replaces its own rows, so mail arriving meanwhile stays found.
    /// </summary>
    public static Task ReindexAsync(IServiceProvider services, CancellationToken cancellationToken) =>
        services.GetServices<IHostedService>().OfType<DatabaseMigrator>().Single().MigrateAsync(rebuildSearchIndex: true, cancellationToken);
}
