using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Regards.Portal.Data;

public enum DatabaseProvider
{
    Sqlite,
    SqlServer,
    PostgreSql,
}

public sealed class DatabaseOptions
{
    public const string Section = "Database";

    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>Folder for the SQLite file, the storage and the cache, relative to the content root.</summary>
    [Required]
    public string DataPath { get; set; } = "App_Data";

    /// <summary>
    /// Apply pending migrations at start-up (the default). When false the portal does not touch the schema: it checks
    /// that no migration is pending and refuses to start otherwise (logged, then the start fails), so it never runs on
    /// an outdated schema. For deployments that migrate in a separate step (<c>dotnet ef database update</c>, a
    /// migration bundle or script) before starting the instances.
    /// </summary>
    public bool MigrateOnStartup { get; set; } = true;
}

public static class DatabaseSetup
{
    /// <summary>How long a SQLite command may wait for the database lock before it fails.</summary>
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long one statement may run on a database server. The drivers' 30 s is too short for the statements that scale
    /// with a dataset (a million-object cart add or order completion is one statement): they failed as a 500.
    /// </summary>
    private static readonly TimeSpan ServerCommandTimeout = TimeSpan.FromMinutes(5);

    public static string ResolveDataPath(IConfiguration configuration, IHostEnvironment environment)
    {
        var dataPath = configuration[$"{DatabaseOptions.Section}:{nameof(DatabaseOptions.DataPath)}"] ?? "App_Data";
        return Path.GetFullPath(Path.Combine(environment.ContentRootPath, dataPath));
    }

    public static IServiceCollection AddPortalDatabase(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        services.AddOptions<DatabaseOptions>().Bind(configuration.GetSection(DatabaseOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        var options = configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        var connectionString = configuration.GetConnectionString("Portal");

        switch (options.Provider)
        {
            case DatabaseProvider.SqlServer:
                if (string.IsNullOrWhiteSpace(connectionString))
                {
                    throw new InvalidOperationException("Database:Provider is SqlServer but ConnectionStrings:Portal is empty.");
                }
                // No retrying execution strategy: it refuses the transactions the services open themselves (order creation,
                // removal, expiry, staging results), and their conflicts are already retried on fresh data or answered 409.
                services.AddDbContextFactory<SqlServerPortalDbContext>(o => o.UseSqlServer(connectionString, sql => sql.CommandTimeout((int)ServerCommandTimeout.TotalSeconds)));
                Register<SqlServerPortalDbContext>(services, sqliteConnectionString: null);
                break;
            case DatabaseProvider.PostgreSql:
                if (string.IsNullOrWhiteSpace(connectionString))
                {
                    throw new InvalidOperationException("Database:Provider is PostgreSql but ConnectionStrings:Portal is empty.");
                }
                // No retrying execution strategy either, for the same reason as SQL Server's.
                services.AddDbContextFactory<PostgreSqlPortalDbContext>(o => o.UseNpgsql(connectionString, npgsql => npgsql.CommandTimeout((int)ServerCommandTimeout.TotalSeconds)));
                Register<PostgreSqlPortalDbContext>(services, sqliteConnectionString: null);
                break;
            default:
                if (string.IsNullOrWhiteSpace(connectionString))
                {
                    var dataPath = ResolveDataPath(configuration, environment);
                    Directory.CreateDirectory(dataPath);
                    connectionString = $"Data Source={Path.Combine(dataPath, "portal.db")}";
                }
                services.AddDbContextFactory<SqlitePortalDbContext>(o => o
                    .UseSqlite(connectionString, sqlite => sqlite.CommandTimeout((int)CommandTimeout.TotalSeconds))
                    .AddInterceptors(SqliteConnectionSettings.Instance));
                Register<SqlitePortalDbContext>(services, connectionString);
                break;
        }
        return services;
    }

    private static void Register<TContext>(IServiceCollection services, string? sqliteConnectionString) where TContext : PortalDbContext
    {
        services.AddSingleton(_ => new DatabaseChanges(sqliteConnectionString));
        services.AddSingleton<IDbContextFactory<PortalDbContext>>(sp => new PortalDbContextFactory<TContext>(sp.GetRequiredService<IDbContextFactory<TContext>>()));
        // Identity's stores and health checks want a scoped context.
        services.AddScoped<PortalDbContext>(sp => sp.GetRequiredService<IDbContextFactory<TContext>>().CreateDbContext());
    }

    /// <summary>
    /// Readies the database before the portal serves: applies the provider's migrations, or with
    /// <see cref="DatabaseOptions.MigrateOnStartup"/> off only checks that none is pending, and throws (after a critical
    /// log line naming them) if some are. SQLite also gets WAL so readers don't block the engine.
    /// </summary>
    public static async Task PreparePortalDatabaseAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var migrate = services.GetRequiredService<IOptions<DatabaseOptions>>().Value.MigrateOnStartup;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DatabaseSetup).FullName!);
        var factory = services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        // Asked first because MigrateAsync, even with nothing to apply, builds the design-time model and diffs it
        // against the last snapshot (EF's pending-model-changes check): a sixth of the start-up's CPU in a profile.
        // That check is a test here (MigrationModelTests), for every provider; EF still makes it when it migrates.
        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
        if (!migrate && pending.Count > 0)
        {
            var message = $"The database has {pending.Count} pending migration(s) ({string.Join(", ", pending)}) and " +
                "Database:MigrateOnStartup is false: the portal does not start on an outdated schema. Apply them " +
                "(dotnet ef database update, a migration bundle or script) or set Database:MigrateOnStartup to true.";
            logger.LogCritical("{Message}", message);
            throw new InvalidOperationException(message);
        }
        if (!migrate)
        {
            logger.LogInformation("Database:MigrateOnStartup is false and no migration is pending");
        }
        if (db.Database.IsSqlite())
        {
            await db.Database.OpenConnectionAsync(cancellationToken);
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
            await db.Database.CloseConnectionAsync();
        }
        if (migrate && pending.Count > 0)
        {
            // Another instance may apply them first: EF takes the database's migration lock and re-reads the history.
            await db.Database.MigrateAsync(cancellationToken);
        }
    }

    private sealed class PortalDbContextFactory<TContext>(IDbContextFactory<TContext> inner) : IDbContextFactory<PortalDbContext>
        where TContext : PortalDbContext
    {
        public PortalDbContext CreateDbContext() => inner.CreateDbContext();

        public async Task<PortalDbContext> CreateDbContextAsync(CancellationToken cancellationToken = default) =>
            await inner.CreateDbContextAsync(cancellationToken);
    }

    /// <summary>
    /// Per-connection SQLite pragmas, set on every open:
    /// <list type="bullet">
    /// <item><c>synchronous=NORMAL</c>. In WAL mode it syncs at checkpoints instead of at every commit: the database
    /// can never be corrupted, only the last commits before a power cut can be lost. The default FULL costs an fsync
    /// per commit, which dominated the engine's work (a sub-order is several small commits).</item>
    /// <item><c>busy_timeout</c>. A writer that finds the database locked then waits in SQLite, retrying within
    /// milliseconds. Without it Microsoft.Data.Sqlite retries by itself after sleeping 150 ms each time, so every
    /// collision of two writes (engine jobs, downloads, page actions) cost at least 150 ms.</item>
    /// </list>
    /// </summary>
    private sealed class SqliteConnectionSettings : Microsoft.EntityFrameworkCore.Diagnostics.DbConnectionInterceptor
    {
        public static readonly SqliteConnectionSettings Instance = new();

        public override void ConnectionOpened(System.Data.Common.DbConnection connection, Microsoft.EntityFrameworkCore.Diagnostics.ConnectionEndEventData eventData) =>
            Apply(connection);

        public override Task ConnectionOpenedAsync(System.Data.Common.DbConnection connection, Microsoft.EntityFrameworkCore.Diagnostics.ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            Apply(connection);
            return Task.CompletedTask;
        }

        // Pragmas that only set connection flags: no I/O, so the synchronous call does not block.
        private static void Apply(System.Data.Common.DbConnection connection)
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"PRAGMA synchronous=NORMAL; PRAGMA busy_timeout={(int)CommandTimeout.TotalMilliseconds};";
            command.ExecuteNonQuery();
        }
    }
}
