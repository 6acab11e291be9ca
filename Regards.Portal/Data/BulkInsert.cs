using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Regards.Portal.Data;

/// <summary>
/// Inserts many new rows of one entity type whose ids are not needed afterwards (an order's files, a cart's objects). On SQLite: one
/// prepared INSERT, executed per row inside one transaction, with the columns, value converters and parameter types
/// taken from the EF model, so the rows are exactly what SaveChanges would write, at a fraction of its cost (no
/// change tracking, no id read back). Other providers batch well already: they go through SaveChanges.
/// </summary>
public static class BulkInsert
{
    public static async Task InsertAsync<T>(PortalDbContext db, IReadOnlyList<T> rows, CancellationToken cancellationToken) where T : class
    {
        if (rows.Count == 0)
        {
            return;
        }
        var entityType = db.Model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not in the model.");
        // Generated keys are left to the database; a shadow property would have no value to read here.
        var properties = entityType.GetProperties().Where(p => !(p.IsPrimaryKey() && p.ValueGenerated == ValueGenerated.OnAdd)).ToList();
        if (!db.Database.IsSqlite() || properties.Any(p => p.IsShadowProperty()))
        {
            var detect = db.ChangeTracker.AutoDetectChangesEnabled;
            db.ChangeTracker.AutoDetectChangesEnabled = false;
            db.Set<T>().AddRange(rows);
            await db.SaveChangesAsync(cancellationToken);
            // Written and not needed: untracked, so many pages do not pile up in the context.
            foreach (var row in rows)
            {
                db.Entry(row).State = EntityState.Detached;
            }
            db.ChangeTracker.AutoDetectChangesEnabled = detect;
            return;
        }

        var table = StoreObjectIdentifier.Table(entityType.GetTableName()!, entityType.GetSchema());
        var sql = db.GetService<ISqlGenerationHelper>();
        // EF's own compiled getters and the property's mapping (its value converter included).
        var columns = properties.Select(p => (Property: p, Getter: p.GetGetter(), Mapping: (RelationalTypeMapping)p.GetRelationalTypeMapping())).ToList();

        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            // Inside the caller's transaction when there is one (the rows commit with the rest of its work), else in its own.
            var ambient = db.Database.CurrentTransaction;
            await using var own = ambient is null ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.Transaction = (ambient ?? own!).GetDbTransaction();
            command.CommandText =
                $"INSERT INTO {sql.DelimitIdentifier(table.Name, table.Schema)} ({string.Join(", ", columns.Select(c => sql.DelimitIdentifier(c.Property.GetColumnName(table)!)))}) " +
                $"VALUES ({string.Join(", ", columns.Select((_, i) => "@p" + i))})";
            var parameters = new DbParameter[columns.Count];
            for (var i = 0; i < columns.Count; i++)
            {
                // The mapping sets the parameter's type (e.g. a Guid bound as text, like SaveChanges does).
                parameters[i] = columns[i].Mapping.CreateParameter(command, "@p" + i, null, columns[i].Property.IsNullable);
                command.Parameters.Add(parameters[i]);
            }
            await command.PrepareAsync(cancellationToken);
            foreach (var row in rows)
            {
                for (var i = 0; i < columns.Count; i++)
                {
                    var (_, getter, mapping) = columns[i];
                    var value = getter.GetClrValueUsingContainingEntity(row);
                    if (value is not null && mapping.Converter is { } converter)
                    {
                        value = converter.ConvertToProvider(value);
                    }
                    parameters[i].Value = value ?? DBNull.Value;
                }
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            if (own is not null)
            {
                await own.CommitAsync(cancellationToken);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}
