using System.Collections.Concurrent;
using System.Net;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Data;

/// <summary><c>Database:MigrateOnStartup</c>: off, the portal never changes the schema and never runs on an outdated one.</summary>
public sealed class DatabaseStartupTests : IDisposable
{
    private readonly string dataPath = Path.Combine(Path.GetTempPath(), "regards-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(dataPath, recursive: true);
        }
        catch (IOException)
        {
            // Not created, or a file still held open: left to the machine's temp cleaning.
        }
    }

    private PortalAppFactory Portal(bool migrateOnStartup, ConcurrentQueue<string>? logs = null) => new()
    {
        Settings =
        {
            ["Database:DataPath"] = dataPath,
            ["Database:MigrateOnStartup"] = migrateOnStartup ? "true" : "false",
            ["Orders:EngineEnabled"] = "false",
            ["Logging:LogLevel:Microsoft.EntityFrameworkCore.Migrations"] = "Debug",
        },
        ConfigureTestServices = logs is null ? null : services => services.AddSingleton<ILoggerProvider>(new CapturingLoggerProvider(logs)),
    };

    private List<string> Tables()
    {
        if (!File.Exists(Path.Combine(dataPath, "portal.db")))
        {
            return [];
        }
        using var connection = new SqliteConnection($"Data Source={Path.Combine(dataPath, "portal.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name";
        using var reader = command.ExecuteReader();
        var tables = new List<string>();
        while (reader.Read())
        {
            tables.Add(reader.GetString(0));
        }
        return tables;
    }

    [Fact]
    public void Off_on_an_empty_database_the_start_fails_naming_the_pending_migrations_and_creates_no_table()
    {
        var logs = new ConcurrentQueue<string>();
        using var portal = Portal(migrateOnStartup: false, logs);

        var error = Assert.ThrowsAny<Exception>(() => portal.CreateClient());

        var reason = Flatten(error).OfType<InvalidOperationException>().FirstOrDefault(e => e.Message.Contains("pending migration"));
        Assert.True(reason is not null, $"the start must fail for the pending migrations, not: {error}");
        Assert.Contains("Database:MigrateOnStartup is false", reason.Message);
        Assert.Contains("_Initial", reason.Message);
        Assert.Contains(logs, line => line.StartsWith("Critical Regards.Portal.Data.DatabaseSetup:", StringComparison.Ordinal) && line.Contains("pending migration"));
        Assert.Empty(Tables());
    }

    [Fact]
    public async Task Off_on_an_up_to_date_database_the_portal_starts_and_serves()
    {
        using (var first = Portal(migrateOnStartup: true))
        {
            Assert.Equal(HttpStatusCode.OK, (await first.CreateClient().GetAsync("/health/ready")).StatusCode);
        }
        SqliteConnection.ClearAllPools();
        var migrated = Tables();
        Assert.Contains("__EFMigrationsHistory", migrated);

        using var second = Portal(migrateOnStartup: false);
        Assert.Equal(HttpStatusCode.OK, (await second.CreateClient().GetAsync("/health/ready")).StatusCode);
        var client = await second.CreateClientForAsync(DemoUsers.User);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/user/orders")).StatusCode);
        Assert.Equal(migrated, Tables());
    }

    /// <summary>
    /// EF's migrator, even with nothing to apply, builds the design-time model and diffs it against the snapshot (a sixth
    /// of the start-up's CPU): on an up-to-date database the portal does not call it.
    /// </summary>
    [Fact]
    public async Task On_an_up_to_date_database_the_start_does_not_run_the_migrator()
    {
        var firstLogs = new ConcurrentQueue<string>();
        using (var first = Portal(migrateOnStartup: true, firstLogs))
        {
            Assert.Equal(HttpStatusCode.OK, (await first.CreateClient().GetAsync("/health/ready")).StatusCode);
        }
        Assert.Contains(firstLogs, line => line.Contains("Microsoft.EntityFrameworkCore.Migrations:", StringComparison.Ordinal) && line.Contains("Applying migration"));

        var logs = new ConcurrentQueue<string>();
        using var second = Portal(migrateOnStartup: true, logs);
        Assert.Equal(HttpStatusCode.OK, (await second.CreateClient().GetAsync("/health/ready")).StatusCode);
        var migrator = logs.Where(line => line.Contains("Microsoft.EntityFrameworkCore.Migrations:", StringComparison.Ordinal)
                                          && (line.Contains("Migrating using database") || line.Contains("No migrations were applied"))).ToList();
        Assert.True(migrator.Count == 0, "the migrator ran on an up-to-date database:\n" + string.Join('\n', migrator));
    }

    private static IEnumerable<Exception> Flatten(Exception error)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            yield return e;
            if (e is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Flatten))
                {
                    yield return inner;
                }
            }
        }
    }

    private sealed class CapturingLoggerProvider(ConcurrentQueue<string> logs) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new CapturingLogger(categoryName, logs);

        public void Dispose()
        {
        }

        private sealed class CapturingLogger(string category, ConcurrentQueue<string> logs) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                logs.Enqueue($"{logLevel} {category}: {formatter(state, exception)}");
        }
    }
}
