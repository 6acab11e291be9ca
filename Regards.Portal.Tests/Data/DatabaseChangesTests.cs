using Microsoft.Data.Sqlite;
using Regards.Portal.Data;

namespace Regards.Portal.Tests.Data;

/// <summary>
/// The probe the idle loops ask before querying (on real SQLite files in WAL mode, as the portal runs them): its answer
/// changes with every commit of another connection and with nothing else, and when it cannot tell it says so.
/// </summary>
public sealed class DatabaseChangesTests : IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "regards-tests", Guid.NewGuid().ToString("N"));

    public DatabaseChangesTests() => Directory.CreateDirectory(folder);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    [Fact]
    public void A_commit_of_another_connection_changes_the_version_and_nothing_else_does()
    {
        var connectionString = $"Data Source={Path.Combine(folder, "portal.db")}";
        using var other = new SqliteConnection(connectionString);
        other.Open();
        Execute(other, "PRAGMA journal_mode=WAL; CREATE TABLE feed (id INTEGER PRIMARY KEY, kind TEXT);");
        using var changes = new DatabaseChanges(connectionString);

        var first = changes.Version();
        Assert.NotNull(first);
        Assert.Equal(first, changes.Version());

        Execute(other, "SELECT count(*) FROM feed;");
        using (var rolledBack = other.BeginTransaction())
        {
            using var insert = other.CreateCommand();
            insert.Transaction = rolledBack;
            insert.CommandText = "INSERT INTO feed (kind) VALUES ('order');";
            insert.ExecuteNonQuery();
            rolledBack.Rollback();
        }
        Assert.Equal(first, changes.Version());

        Execute(other, "INSERT INTO feed (kind) VALUES ('order');");
        var second = changes.Version();
        Assert.NotEqual(first, second);
        Assert.Equal(second, changes.Version());

        // Another connection of the pool, as the portal's contexts use them.
        using (var pooled = new SqliteConnection(connectionString))
        {
            pooled.Open();
            Execute(pooled, "UPDATE feed SET kind = 'basket';");
        }
        Assert.NotEqual(second, changes.Version());
    }

    [Fact]
    public void A_probe_that_cannot_open_the_database_answers_unknown_then_recovers()
    {
        var path = Path.Combine(folder, "later", "portal.db");
        var connectionString = $"Data Source={path}";
        using var changes = new DatabaseChanges(connectionString);

        Assert.Null(changes.Version());

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using (var create = new SqliteConnection(connectionString))
        {
            create.Open();
            Execute(create, "PRAGMA journal_mode=WAL; CREATE TABLE feed (id INTEGER PRIMARY KEY);");
        }
        var version = changes.Version();
        Assert.NotNull(version);
        Assert.Equal(version, changes.Version());
    }

    [Fact]
    public void On_a_database_server_the_version_is_unknown_and_the_loops_poll() =>
        Assert.Null(new DatabaseChanges(sqliteConnectionString: null).Version());

    [Theory]
    [InlineData("Data Source=:memory:")]
    [InlineData("Data Source=portal;Mode=Memory;Cache=Shared")]
    [InlineData("Data Source=")]
    public void An_in_memory_database_s_version_is_unknown_its_probe_would_see_another_database(string connectionString)
    {
        using var changes = new DatabaseChanges(connectionString);
        Assert.Null(changes.Version());
    }
}
