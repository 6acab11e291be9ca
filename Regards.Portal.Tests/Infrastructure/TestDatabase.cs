using Microsoft.EntityFrameworkCore;
using Regards.Portal.Data;

namespace Regards.Portal.Tests.Infrastructure;

/// <summary>
/// A test's own empty database on one provider: a SQLite file in the test's data folder (the portal's default
/// <c>portal.db</c>), or a new database on the run's PostgreSQL cluster (<see cref="PostgreSqlServer"/>), dropped on dispose.
/// <see cref="Settings"/> points the portal at it; <see cref="Open"/> opens it from the test, as the portal's context.
/// </summary>
public sealed class TestDatabase : IDisposable
{
    private readonly string? postgresName;

    private TestDatabase(DatabaseProvider provider, string connectionString, string? postgresName)
    {
        Provider = provider;
        ConnectionString = connectionString;
        this.postgresName = postgresName;
    }

    public DatabaseProvider Provider { get; }

    public string ConnectionString { get; }

    /// <param name="dataPath">The portal's data folder (Database:DataPath): the SQLite file is there.</param>
    /// <param name="name">A word for the PostgreSQL database's name (which test made it).</param>
    public static TestDatabase Create(DatabaseProvider provider, string dataPath, string name = "test") => provider switch
    {
        DatabaseProvider.Sqlite => new(provider, $"Data Source={Path.Combine(dataPath, "portal.db")}", null),
        DatabaseProvider.PostgreSql => CreatePostgreSql(name),
        _ => throw new ArgumentOutOfRangeException(nameof(provider), provider, "The tests run on SQLite and PostgreSQL (no SQL Server on these machines)."),
    };

    private static TestDatabase CreatePostgreSql(string name)
    {
        var server = PostgreSqlServer.Shared;
        var database = server.CreateDatabase(name);
        return new(DatabaseProvider.PostgreSql, server.ConnectionString(database), database);
    }

    /// <summary>The portal's configuration for this database. SQLite: the default file in the data folder, nothing to set.</summary>
    public IReadOnlyDictionary<string, string> Settings => Provider == DatabaseProvider.Sqlite
        ? new Dictionary<string, string>()
        : new Dictionary<string, string>
        {
            ["Database:Provider"] = Provider.ToString(),
            ["ConnectionStrings:Portal"] = ConnectionString,
        };

    /// <summary>A context on this database, of the provider's own type (its migrations set).</summary>
    public PortalDbContext Open() => Provider switch
    {
        DatabaseProvider.Sqlite => new SqlitePortalDbContext(new DbContextOptionsBuilder<SqlitePortalDbContext>().UseSqlite(ConnectionString).Options),
        _ => new PostgreSqlPortalDbContext(new DbContextOptionsBuilder<PostgreSqlPortalDbContext>().UseNpgsql(ConnectionString).Options),
    };

    /// <summary>What the provider's error says when a row breaks the unique index on that column (EF's index name on PostgreSQL).</summary>
    public static string UniqueViolation(DatabaseProvider provider, string table, string column) => provider == DatabaseProvider.Sqlite
        ? $"UNIQUE constraint failed: {table}.{column}"
        : $"23505: duplicate key value violates unique constraint \"IX_{table}_{column}\"";

    public void Dispose()
    {
        if (postgresName is not null)
        {
            PostgreSqlServer.Shared.DropDatabase(postgresName);
        }
        else
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        }
    }
}
