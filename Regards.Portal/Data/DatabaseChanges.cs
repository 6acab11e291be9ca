using Microsoft.Data.Sqlite;

namespace Regards.Portal.Data;

/// <summary>
/// Tells the background loops whether the database may have changed since they last looked, so that an idle instance
/// stops querying it several times a second. Each poll built a context, opened a connection and ran its query: an idle
/// portal used 26-37 ms of CPU a second, and its memory grew by 20 MB in its first minute (dotnet-trace, /proc).
/// <para>
/// SQLite answers exactly, for the price of one pragma: <c>PRAGMA data_version</c>, asked on a connection of the
/// probe's own that never writes, changes whenever any other connection commits, this process's or another instance's
/// on the same file. Database servers have no such counter: there the version is unknown and the loops poll as before.
/// </para>
/// </summary>
public sealed class DatabaseChanges : IDisposable
{
    private readonly string? sqliteConnectionString;
    private readonly Lock gate = new();
    private SqliteConnection? connection;
    private SqliteCommand? query;
    private long generation;

    /// <param name="sqliteConnectionString">The SQLite database's; null on a database server.</param>
    public DatabaseChanges(string? sqliteConnectionString)
    {
        if (sqliteConnectionString is null)
        {
            return;
        }
        var builder = new SqliteConnectionStringBuilder(sqliteConnectionString) { Pooling = false };
        // An in-memory database would be a new, empty one on the probe's connection, whose version never moves: unknown.
        if (builder.Mode != SqliteOpenMode.Memory && builder.DataSource is not ("" or ":memory:"))
        {
            // Its own connection, out of the pool: a pooled one would be shared, and commits on it would not count.
            this.sqliteConnectionString = builder.ToString();
        }
    }

    /// <summary>
    /// The database's version now: equal to an earlier answer only if nothing was committed in between. Null when it
    /// cannot be told (a database server, or the probe failed): then the caller looks at the database.
    /// </summary>
    public long? Version()
    {
        if (sqliteConnectionString is null)
        {
            return null;
        }
        lock (gate)
        {
            try
            {
                if (query is null)
                {
                    connection = new SqliteConnection(sqliteConnectionString);
                    connection.Open();
                    query = connection.CreateCommand();
                    query.CommandText = "PRAGMA data_version;";
                    // The pragma reads the WAL index, it does not wait for writers; a locked file answers "unknown" fast.
                    query.CommandTimeout = 1;
                    generation++;
                }
                // Values compare only within one connection: a reopened probe starts a new generation.
                return (generation << 40) | (long)query.ExecuteScalar()!;
            }
            catch (SqliteException)
            {
                Close();
                return null;
            }
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            Close();
        }
    }

    private void Close()
    {
        query?.Dispose();
        connection?.Dispose();
        query = null;
        connection = null;
    }
}
