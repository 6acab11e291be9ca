using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Regards.Portal.Data;

/// <summary>Carries the SQLite migrations set.</summary>
public sealed class SqlitePortalDbContext(DbContextOptions<SqlitePortalDbContext> options) : PortalDbContext(options);

/// <summary>Carries the SQL Server migrations set.</summary>
public sealed class SqlServerPortalDbContext(DbContextOptions<SqlServerPortalDbContext> options) : PortalDbContext(options);

/// <summary>Carries the PostgreSQL migrations set.</summary>
public sealed class PostgreSqlPortalDbContext(DbContextOptions<PostgreSqlPortalDbContext> options) : PortalDbContext(options)
{
    /// <summary>Text the way SQLite (the default) compares it, whatever the server's default collation.</summary>
    public const string TextCollation = "C";

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        base.ConfigureConventions(configurationBuilder);
        // Every text column sorts and compares byte by byte (UTF-8 code point order) as on SQLite: sorted lists (labels,
        // owners) and keyset pages come in the same order on both, and upper() folds ASCII letters only, as SQLite's
        // does (the searches' case-insensitive LIKE). A server's linguistic default (en_US, ICU) would order "apple"
        // before "Banana" where SQLite puts "Banana" first.
        configurationBuilder.Properties<string>().UseCollation(TextCollation);
        configurationBuilder.Properties<Enum>().UseCollation(TextCollation);
    }
}

/// <summary>Design-time factories for <c>dotnet ef migrations add</c>; they never connect.</summary>
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqlitePortalDbContext>
{
    public SqlitePortalDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqlitePortalDbContext>().UseSqlite("Data Source=design.db").Options);
}

internal sealed class SqlServerDesignTimeFactory : IDesignTimeDbContextFactory<SqlServerPortalDbContext>
{
    public SqlServerPortalDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqlServerPortalDbContext>().UseSqlServer("Server=design;Database=design;Trusted_Connection=True").Options);
}

internal sealed class PostgreSqlDesignTimeFactory : IDesignTimeDbContextFactory<PostgreSqlPortalDbContext>
{
    public PostgreSqlPortalDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgreSqlPortalDbContext>().UseNpgsql("Host=design;Database=design").Options);
}
