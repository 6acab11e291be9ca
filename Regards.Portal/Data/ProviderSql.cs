using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;

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
}
