using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.SqlServer.TransactSql.ScriptDom;
using Regards.Portal.Data;

namespace Regards.Portal.Tests.Infrastructure;

/// <summary>
/// The two migrations sets against the model, without any database: no model change is left without its migration,
/// and the SQL Server script (no SQL Server on these machines) is T-SQL that parses.
/// </summary>
public sealed class MigrationModelTests
{
    private static SqlitePortalDbContext Sqlite() =>
        new(new DbContextOptionsBuilder<SqlitePortalDbContext>().UseSqlite("Data Source=:memory:").Options);

    /// <summary>Never connects: building the model and scripting need no server.</summary>
    private static SqlServerPortalDbContext SqlServer() =>
        new(new DbContextOptionsBuilder<SqlServerPortalDbContext>().UseSqlServer("Server=nowhere;Database=none;Trusted_Connection=True").Options);

    [Theory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public void Every_model_change_has_its_migration(string provider)
    {
        using PortalDbContext db = provider == "Sqlite" ? Sqlite() : SqlServer();
        Assert.False(db.Database.HasPendingModelChanges(),
            $"The {provider} model differs from its last migration's snapshot: add a migration (dotnet ef migrations add X --context {db.GetType().Name}).");
    }

    [Fact]
    public void The_SQL_Server_context_the_portal_registers_accepts_the_transactions_its_services_open()
    {
        // As Program configures it: a retrying execution strategy would throw at the first BeginTransaction.
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Database:Provider"] = "SqlServer",
            ["ConnectionStrings:Portal"] = "Server=nowhere;Database=none;Trusted_Connection=True",
        }).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddPortalDatabase(configuration, new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { ContentRootPath = Path.GetTempPath() });
        using var provider = services.BuildServiceProvider();
        using var db = provider.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext();
        Assert.IsType<SqlServerPortalDbContext>(db);
        Assert.False(db.Database.CreateExecutionStrategy().RetriesOnFailure);
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
