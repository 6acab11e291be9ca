using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.SqlServer.TransactSql.ScriptDom;
using Regards.Portal.Data;

namespace Regards.Portal.Tests.Infrastructure;

/// <summary>
/// The three migrations sets against the model: no model change is left without its migration, the SQL Server script
/// (no SQL Server on these machines) is T-SQL that parses, and PostgreSQL's migrations and idempotent script build, on
/// the tests' real server, the schema that the model describes.
/// </summary>
public sealed class MigrationModelTests
{
    private static SqlitePortalDbContext Sqlite() =>
        new(new DbContextOptionsBuilder<SqlitePortalDbContext>().UseSqlite("Data Source=:memory:").Options);

    /// <summary>Never connects: building the model and scripting need no server.</summary>
    private static SqlServerPortalDbContext SqlServer() =>
        new(new DbContextOptionsBuilder<SqlServerPortalDbContext>().UseSqlServer("Server=nowhere;Database=none;Trusted_Connection=True").Options);

    /// <summary>Never connects either.</summary>
    private static PostgreSqlPortalDbContext PostgreSql(string connectionString = "Host=nowhere;Database=none") =>
        new(new DbContextOptionsBuilder<PostgreSqlPortalDbContext>().UseNpgsql(connectionString).Options);

    [Theory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    [InlineData("PostgreSql")]
    public void Every_model_change_has_its_migration(string provider)
    {
        using PortalDbContext db = provider switch { "Sqlite" => Sqlite(), "SqlServer" => SqlServer(), _ => PostgreSql() };
        Assert.False(db.Database.HasPendingModelChanges(),
            $"The {provider} model differs from its last migration's snapshot: add a migration (dotnet ef migrations add X --context {db.GetType().Name}).");
    }

    [Theory]
    [InlineData("SqlServer", "Server=nowhere;Database=none;Trusted_Connection=True", typeof(SqlServerPortalDbContext))]
    [InlineData("PostgreSql", "Host=nowhere;Database=none", typeof(PostgreSqlPortalDbContext))]
    public void The_server_context_the_portal_registers_accepts_the_transactions_its_services_open(string name, string connectionString, Type context)
    {
        // As Program configures it: a retrying execution strategy would throw at the first BeginTransaction.
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Database:Provider"] = name,
            ["ConnectionStrings:Portal"] = connectionString,
        }).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddPortalDatabase(configuration, new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { ContentRootPath = Path.GetTempPath() });
        using var provider = services.BuildServiceProvider();
        using var db = provider.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext();
        Assert.IsType(context, db);
        Assert.False(db.Database.CreateExecutionStrategy().RetriesOnFailure);
    }

    [Fact]
    public async Task The_PostgreSQL_migrations_and_their_idempotent_script_build_the_schema_of_the_model_on_a_real_server()
    {
        var folder = Path.Combine(Path.GetTempPath(), "regards-tests", $"pg-schema-{Guid.NewGuid():N}");
        using var migrated = TestDatabase.Create(DatabaseProvider.PostgreSql, folder, "schema");
        using var scripted = TestDatabase.Create(DatabaseProvider.PostgreSql, folder, "script");
        await using (var db = migrated.Open())
        {
            await db.Database.MigrateAsync();
        }
        // The script a deployment runs in its own step (Database:MigrateOnStartup false), run twice: idempotent.
        string script;
        await using (var db = PostgreSql())
        {
            script = db.GetService<IMigrator>().GenerateScript(options: MigrationsSqlGenerationOptions.Idempotent);
        }
        await using (var connection = new Npgsql.NpgsqlConnection(scripted.ConnectionString))
        {
            await connection.OpenAsync();
            for (var run = 0; run < 2; run++)
            {
                await using var command = new Npgsql.NpgsqlCommand(script, connection);
                await command.ExecuteNonQueryAsync();
            }
        }

        foreach (var database in new[] { migrated, scripted })
        {
            await using var db = PostgreSql(database.ConnectionString);
            Assert.Empty(await db.Database.GetPendingMigrationsAsync());
            var actual = await ColumnsAsync(database.ConnectionString);
            var expected = new List<string>();
            foreach (var entity in db.GetService<IDesignTimeModel>().Model.GetEntityTypes().Where(e => e.GetTableName() is not null))
            {
                var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
                foreach (var property in entity.GetProperties())
                {
                    expected.Add($"{table.Name}.{property.GetColumnName(table)} {property.GetColumnType()} {(property.IsColumnNullable(table) ? "NULL" : "NOT NULL")} {property.GetCollation()}".TrimEnd());
                }
            }
            Assert.Equal(expected.Order(StringComparer.Ordinal), actual.Where(c => !c.StartsWith("__EFMigrationsHistory.", StringComparison.Ordinal)));
        }
    }

    /// <summary>Every column of the database's tables: table.column, type, nullability, collation when not the default.</summary>
    private static async Task<List<string>> ColumnsAsync(string connectionString)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("""
            SELECT c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' ||
                   CASE WHEN a.attnotnull THEN 'NOT NULL' ELSE 'NULL' END ||
                   CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN ' ' || co.collname ELSE '' END
            FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid AND c.relkind = 'r'
            JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
            JOIN pg_type t ON t.oid = a.atttypid
            LEFT JOIN pg_collation co ON co.oid = a.attcollation
            WHERE a.attnum > 0 AND NOT a.attisdropped
            """, connection);
        var columns = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            columns.Add(reader.GetString(0));
        }
        return columns.Order(StringComparer.Ordinal).ToList();
    }

    [Fact]
    public void The_idempotent_SQL_Server_script_parses_as_T_SQL()
    {
        using var db = SqlServer();
        var script = db.GetService<IMigrator>().GenerateScript(options: MigrationsSqlGenerationOptions.Idempotent);
        Assert.Contains("RecomputeOrderCountersFromFiles", script, StringComparison.Ordinal);

        var errors = TSqlErrors(script);
        Assert.True(errors.Count == 0, "The SQL Server migrations script is not T-SQL:\n" + string.Join("\n", errors));
    }

    [Fact]
    public void The_SQL_Server_lock_of_the_engine_s_claims_parses_as_T_SQL()
    {
        var errors = TSqlErrors(string.Format(System.Globalization.CultureInfo.InvariantCulture, ProviderSql.SqlServerLock, "@p0"));
        Assert.True(errors.Count == 0, "ProviderSql.SqlServerLock is not T-SQL:\n" + string.Join("\n", errors));
    }

    /// <summary>
    /// Parse errors of a script (GO separates batches, as the parser knows), then of the dynamic SQL it runs with
    /// <c>EXEC(N'…')</c> (EF's idempotent script wraps some statements so): a string is otherwise never looked into.
    /// </summary>
    private static List<string> TSqlErrors(string script, string where = "script")
    {
        // SQL Server 2022, the oldest level the portal runs on; newer syntax would fail there.
        var parser = new TSql160Parser(initialQuotedIdentifiers: true);
        var fragment = parser.Parse(new StringReader(script), out var parseErrors);
        var errors = parseErrors.Select(e => $"{where} line {e.Line}, column {e.Column}: {e.Message} near: {Near(script, e.Offset)}").ToList();
        if (fragment is not null)
        {
            var dynamicSql = new DynamicSqlCollector();
            fragment.Accept(dynamicSql);
            foreach (var (sql, line) in dynamicSql.Found)
            {
                errors.AddRange(TSqlErrors(sql, $"EXEC at {where} line {line},"));
            }
        }
        return errors;
    }

    private static string Near(string script, int offset) =>
        script.Substring(Math.Max(0, offset - 40), Math.Min(120, script.Length - Math.Max(0, offset - 40))).ReplaceLineEndings(" ");

    private sealed class DynamicSqlCollector : TSqlFragmentVisitor
    {
        public List<(string Sql, int Line)> Found { get; } = [];

        public override void ExplicitVisit(ExecutableStringList node)
        {
            // EXEC('a' + 'b'): the literals concatenated; a variable part cannot be checked here.
            if (node.Strings.All(s => s is StringLiteral))
            {
                Found.Add((string.Concat(node.Strings.Cast<StringLiteral>().Select(s => s.Value)), node.StartLine));
            }
            base.ExplicitVisit(node);
        }
    }
}
