using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace ConnectiveOne.Core.Persistence;

public static class InsertIfMissingExtensions
{
    /// <summary>
    /// Adds <paramref name="row"/> unless a row with its key is there (<c>INSERT … ON CONFLICT DO NOTHING</c>, SQLite
    /// and PostgreSQL): the way two requests or nodes add the same key at once without one failing on it. Returns
    /// whether this call added it. Names come from the model; values are bound through each property's type mapping,
    /// so value converters apply as in <c>SaveChanges</c>. Runs in the context's current transaction, if any.
    /// </summary>
    public static async Task<bool> InsertIfMissingAsync<T>(this DbContext db, T row, CancellationToken ct) where T : class
    {
        var entity = db.Model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not in the model.");
        var sql = db.GetService<ISqlGenerationHelper>();
        var properties = entity.GetProperties().ToList();
        await using var factory = db.Database.GetDbConnection().CreateCommand(); // only makes the parameters
        var parameters = properties.Select((p, i) => (object)p.GetRelationalTypeMapping().CreateParameter(factory,
            sql.GenerateParameterName($"p{i}"), p.GetGetter().GetClrValueUsingContainingEntity(row), p.IsNullable)).ToArray();
        var insert = $"INSERT INTO {sql.DelimitIdentifier(entity.GetTableName()!, entity.GetSchema())} " +
            $"({string.Join(", ", properties.Select(p => sql.DelimitIdentifier(p.GetColumnName())))}) " +
            $"VALUES ({string.Join(", ", properties.Select((_, i) => sql.GenerateParameterNamePlaceholder($"p{i}")))}) ON CONFLICT DO NOTHING";
        return await db.Database.ExecuteSqlRawAsync(insert, parameters, ct) == 1;
    }
}
