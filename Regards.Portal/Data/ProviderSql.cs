using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Regards.Portal.Data;

/// <summary>
/// The few statements that differ by provider and that LINQ cannot say, written once for each of SQLite, SQL Server and
/// PostgreSQL. Everything else the portal writes goes through EF's own translation.
/// </summary>
public static class ProviderSql
{
    /// <summary>
    /// SQL Server's named lock ({0}: the name). sp_getapplock answers a status rather than failing (a deadlock victim
    /// gets -3): a refusal must not go on unlocked. (No SQL Server here: the tests parse it as T-SQL.)
    /// </summary>
    internal const string SqlServerLock = """
        DECLARE @granted int;
        EXEC @granted = sp_getapplock @Resource = {0}, @LockMode = 'Exclusive', @LockOwner = 'Transaction';
        IF @granted < 0 THROW 51000, 'sp_getapplock refused the lock', 1;
        """;

    /// <summary>
    /// Takes a named exclusive lock until the end of the current transaction, so that the transactions taking the same
    /// name run one after the other: PostgreSQL's transaction-level advisory lock, SQL Server's application lock. SQLite
    /// has one writer at a time: a transaction that writes is already alone, nothing to take.
    /// </summary>
    public static async Task LockForTransactionAsync(PortalDbContext db, string name, CancellationToken cancellationToken)
    {
        if (db.Database.IsSqlite())
        {
            return;
        }
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("A transaction-level lock needs a transaction.");
        }
        if (db.Database.IsNpgsql())
        {
            // A 64-bit key from the name (hashtextextended: PostgreSQL 11 and later).
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtextextended({name}, 0))", cancellationToken);
        }
        else if (db.Database.IsSqlServer())
        {
            // Resource names are at most 255 characters: a long name by its hash.
            var resource = name.Length <= 200 ? name : "regards:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)));
            await db.Database.ExecuteSqlRawAsync(SqlServerLock, [resource], cancellationToken);
        }
        else
        {
            throw new NotSupportedException($"No transaction lock for {db.Database.ProviderName}.");
        }
    }

    /// <summary>
    /// <c>INSERT INTO {TEntity's table} (constants…, selected) SELECT literals…, q.* FROM (source) AS q</c>: rows made on
    /// the server from a one-column LINQ query, however many, without reading them into .NET. The SELECT is EF's own
    /// translation of <paramref name="source"/> with its parameters (so it is right for SQLite, SQL Server and PostgreSQL
    /// alike); the constants are written as SQL literals by their columns' type mappings (value converters included), so
    /// the statement mixes no parameter styles. Runs in the context's current transaction when there is one. Returns the
    /// rows written.
    /// </summary>
    public static async Task<int> InsertSelectAsync<TEntity, TValue>(PortalDbContext db, IQueryable<TValue> source, string selectedProperty,
        IReadOnlyList<(string Property, object Value)> constants, CancellationToken cancellationToken) where TEntity : class
    {
        var entityType = db.Model.FindEntityType(typeof(TEntity)) ?? throw new InvalidOperationException($"{typeof(TEntity).Name} is not in the model.");
        var table = StoreObjectIdentifier.Table(entityType.GetTableName()!, entityType.GetSchema());
        var sql = db.GetService<ISqlGenerationHelper>();
        IProperty Property(string name) => entityType.FindProperty(name) ?? throw new InvalidOperationException($"{typeof(TEntity).Name}.{name} is not in the model.");
        string Column(string name) => sql.DelimitIdentifier(Property(name).GetColumnName(table)!);
        var columns = constants.Select(c => Column(c.Property)).Append(Column(selectedProperty));
        // GenerateSqlLiteral applies the mapping's value converter itself.
        var literals = constants.Select(c => ((RelationalTypeMapping)Property(c.Property).GetRelationalTypeMapping()).GenerateSqlLiteral(c.Value));

        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = source.CreateDbCommand();
            command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
            command.CommandText =
                $"INSERT INTO {sql.DelimitIdentifier(table.Name, table.Schema)} ({string.Join(", ", columns)})\n" +
                $"SELECT {string.Join(", ", literals.Append("q.*"))} FROM (\n{command.CommandText}\n) AS q";
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>From this many rows written at once, a table's planner statistics are refreshed (<see cref="RefreshStatisticsAsync{TEntity}"/>).</summary>
    public const int BulkWriteRows = 10_000;

    /// <summary>
    /// After a bulk write, brings the planner's statistics of <typeparamref name="TEntity"/>'s table up to date, as
    /// PostgreSQL's own advice for bulk loads says (autovacuum would, up to a minute later: the next statements would be
    /// planned for a nearly empty table, nested loops over a hundred thousand rows). A sampled <c>ANALYZE</c>, a fraction
    /// of a second. SQL Server refreshes its statistics itself before the next statement; SQLite plans without them.
    /// </summary>
    public static async Task RefreshStatisticsAsync<TEntity>(PortalDbContext db, CancellationToken cancellationToken) where TEntity : class
    {
        if (!db.Database.IsNpgsql())
        {
            return;
        }
        var entityType = db.Model.FindEntityType(typeof(TEntity)) ?? throw new InvalidOperationException($"{typeof(TEntity).Name} is not in the model.");
        var table = db.GetService<ISqlGenerationHelper>().DelimitIdentifier(entityType.GetTableName()!, entityType.GetSchema());
        // The table's name comes from the model, delimited by the provider: nothing from a request.
#pragma warning disable EF1003
        await db.Database.ExecuteSqlRawAsync("ANALYZE " + table, cancellationToken);
#pragma warning restore EF1003
    }
}
