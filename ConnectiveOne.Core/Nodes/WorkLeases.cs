using System.Text;
using ConnectiveOne.Core.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ConnectiveOne.Core.Nodes;

/// <summary>A row background work is done on by one node at a time (outbox mail, DNS re-checks).</summary>
public interface ILeasedWork
{
    /// <summary>The <see cref="NodeIdentity.Instance"/> working on the row; null when nobody is.</summary>
    string? LeaseOwner { get; set; }

    /// <summary>When the claim ends if the owner does not record its work first (a dead node's claim runs out).</summary>
    DateTimeOffset? LeaseExpiresAt { get; set; }
}

/// <summary>
/// Claims due rows for one node with a single atomic UPDATE … RETURNING, so several nodes never work on the same
/// row. PostgreSQL skips rows another node is claiming (FOR UPDATE SKIP LOCKED); SQLite's write lock serialises
/// claims. Identifiers come from the EF model and values are bound as parameters, so it runs on both providers.
/// </summary>
public static class WorkLeases
{
    /// <summary>
    /// Claims up to <paramref name="limit"/> rows whose <paramref name="dueProperty"/> is reached and whose
    /// <paramref name="equals"/> columns hold the given values, unless another owner's lease is still running
    /// (this owner's own leases are renewed). Returns them tracked, earliest due first.
    /// </summary>
    public static async Task<List<T>> ClaimAsync<T>(DbContext db, string dueProperty,
        IReadOnlyList<(string Property, object Value)> equals, string owner, DateTimeOffset now, TimeSpan lease, int limit,
        CancellationToken ct) where T : class, ILeasedWork
    {
        var entity = db.Model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not in the model.");
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        var sql = db.GetService<ISqlGenerationHelper>();
        string Column(string property) => sql.DelimitIdentifier(entity.FindProperty(property)!.GetColumnName(table)!);

        var name = sql.DelimitIdentifier(table.Name, table.Schema);
        var key = Column(entity.FindPrimaryKey()!.Properties.Single().Name);
        var due = Column(dueProperty);
        var leaseOwner = Column(nameof(ILeasedWork.LeaseOwner));
        var leaseEnd = Column(nameof(ILeasedWork.LeaseExpiresAt));
        // Times are stored as UTC ticks on both providers (AppDbContext's convention), so they are bound as ticks.
        var parameters = new List<object> { owner, (now + lease).UtcTicks, now.UtcTicks, limit };
        var filters = new StringBuilder();
        foreach (var (property, value) in equals)
        {
            filters.Append($" AND {Column(property)} = {{{parameters.Count}}}");
            parameters.Add(value);
        }
        var skipLocked = db.Database.IsNpgsql() ? " FOR UPDATE SKIP LOCKED" : "";
        var text = $$"""
            UPDATE {{name}} SET {{leaseOwner}} = {0}, {{leaseEnd}} = {1}
            WHERE {{key}} IN (
                SELECT {{key}} FROM {{name}}
                WHERE {{due}} IS NOT NULL AND {{due}} <= {2}{{filters}}
                  AND ({{leaseEnd}} IS NULL OR {{leaseEnd}} <= {2} OR {{leaseOwner}} = {0})
                ORDER BY {{due}}
                LIMIT {3}{{skipLocked}})
            RETURNING *
            """;
        var claimed = await db.Set<T>().FromSqlRaw(text, [.. parameters]).AsTracking().ToListAsync(ct);
        var read = entity.FindProperty(dueProperty)!.GetGetter();
        return [.. claimed.OrderBy(read.GetClrValue)];
    }

    /// <summary>
    /// At start, takes back claims a crash of this node left behind, so they do not wait for their lease to run out:
    /// all claims when the node is alone (no Redis: nobody else can hold any), else those of a node with this
    /// <see cref="NodeIdentity.Name"/> (an earlier run of this node). Logs how many rows of <paramref name="work"/> were
    /// freed; a failure is logged too and only delays them (the claims end with their lease).
    /// </summary>
    public static async Task TakeBackLeftOverAsync<T>(IServiceScopeFactory scopes, NodeIdentity node, ConnectiveOneOptions options,
        ILogger logger, string work, CancellationToken ct) where T : class, ILeasedWork
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var freed = await TakeBackLeftOverAsync<T>(scope.ServiceProvider.GetRequiredService<AppDbContext>(), node,
                alone: string.IsNullOrWhiteSpace(options.Redis), ct);
            if (freed > 0)
                logger.LogInformation("Took back {Count} {Work} this node had claimed before it stopped", freed, work);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Claims on {Work} left from before the start could not be taken back; they are taken up once their lease ends", work);
        }
    }

    /// <summary>Frees the left-over claims; returns how many.</summary>
    private static Task<int> TakeBackLeftOverAsync<T>(DbContext db, NodeIdentity node, bool alone, CancellationToken ct)
        where T : class, ILeasedWork
    {
        var prefix = node.Name + "/";
        return db.Set<T>()
            .Where(r => EF.Property<string?>(r, nameof(ILeasedWork.LeaseOwner)) != null
                && (alone || EF.Property<string>(r, nameof(ILeasedWork.LeaseOwner)).StartsWith(prefix)))
            .ExecuteUpdateAsync(set => set
                .SetProperty(r => EF.Property<string?>(r, nameof(ILeasedWork.LeaseOwner)), (string?)null)
                .SetProperty(r => EF.Property<DateTimeOffset?>(r, nameof(ILeasedWork.LeaseExpiresAt)), (DateTimeOffset?)null), ct);
    }

    /// <summary>Ends the claim; call before saving the recorded work.</summary>
    public static void Release(ILeasedWork row)
    {
        row.LeaseOwner = null;
        row.LeaseExpiresAt = null;
    }

    /// <summary>Whether there is time left in the claim for work that takes up to <paramref name="duration"/>.</summary>
    public static bool HasTimeFor(ILeasedWork row, DateTimeOffset now, TimeSpan duration) =>
        row.LeaseExpiresAt is { } end && now + duration < end;
}
