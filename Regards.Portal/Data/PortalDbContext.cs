using System.Text.Json;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Regards.Portal.Admin;
using Regards.Portal.Basket;
using Regards.Portal.Catalog;
using Regards.Portal.Infrastructure;
using Regards.Portal.Orders;

namespace Regards.Portal.Data;

/// <summary>
/// The portal's one database. Provider-specific subclasses (<see cref="SqlitePortalDbContext"/>,
/// <see cref="SqlServerPortalDbContext"/>) exist only so that each provider has its own migrations set;
/// application code always asks for <c>IDbContextFactory&lt;PortalDbContext&gt;</c>.
/// </summary>
public class PortalDbContext(DbContextOptions options) : IdentityDbContext<ApplicationUser>(options), IDataProtectionKeyContext
{
    public DbSet<Dataset> Datasets => Set<Dataset>();
    public DbSet<DataObject> DataObjects => Set<DataObject>();
    public DbSet<DataFile> DataFiles => Set<DataFile>();
    public DbSet<AccessGroup> AccessGroups => Set<AccessGroup>();
    public DbSet<UserAccessGroup> UserAccessGroups => Set<UserAccessGroup>();
    public DbSet<DatasetAccessRight> DatasetAccessRights => Set<DatasetAccessRight>();

    public DbSet<Basket.Basket> Baskets => Set<Basket.Basket>();
    public DbSet<BasketDatasetSelection> BasketDatasetSelections => Set<BasketDatasetSelection>();
    public DbSet<BasketItemSelection> BasketItemSelections => Set<BasketItemSelection>();
    public DbSet<BasketObject> BasketObjects => Set<BasketObject>();

    public DbSet<Order> Orders => Set<Order>();
    public DbSet<DatasetTask> DatasetTasks => Set<DatasetTask>();
    public DbSet<SubOrder> SubOrders => Set<SubOrder>();
    public DbSet<OrderFile> OrderFiles => Set<OrderFile>();

    public DbSet<JobLease> JobLeases => Set<JobLease>();
    public DbSet<UiModuleSettings> UiModuleSettings => Set<UiModuleSettings>();
    public DbSet<PortalSettings> PortalSettings => Set<PortalSettings>();
    public DbSet<Processing.ProcessingSettings> ProcessingSettings => Set<Processing.ProcessingSettings>();
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<Notifications.OutboxMail> OutboxMails => Set<Notifications.OutboxMail>();
    public DbSet<Identity.AttemptCounter> AttemptCounters => Set<Identity.AttemptCounter>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Enums as readable strings; every date is UTC (SQLite stores text and forgets the kind).
        configurationBuilder.Properties<Enum>().HaveConversion<string>().HaveMaxLength(32);
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<NullableUtcDateTimeConverter>();
    }

    protected override void OnModelCreating(ModelBuilder builder)
    {
        // Identity's tables come from the base; each feature maps its own entities in its folder
        // (IEntityTypeConfiguration classes such as Orders/OrderMapping.cs).
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(PortalDbContext).Assembly);
    }

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        BumpVersions();
        return base.SaveChanges(acceptAllChangesOnSuccess);
    }

    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        BumpVersions();
        return base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    private void BumpVersions()
    {
        foreach (var entry in ChangeTracker.Entries<IVersioned>())
        {
            if (entry.State == EntityState.Modified)
            {
                entry.Entity.Version++;
            }
        }
    }
}

internal sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
    v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
    v => DateTime.SpecifyKind(v, DateTimeKind.Utc));

internal sealed class NullableUtcDateTimeConverter() : ValueConverter<DateTime?, DateTime?>(
    v => v == null ? v : v.Value.Kind == DateTimeKind.Utc ? v : v.Value.ToUniversalTime(),
    v => v == null ? v : DateTime.SpecifyKind(v.Value, DateTimeKind.Utc));

internal static class JsonColumnExtensions
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    /// <summary>Stores a small value object as a JSON text column, compared by its JSON.</summary>
    public static PropertyBuilder<T> HasJsonConversion<T>(this PropertyBuilder<T> property)
    {
        property.HasConversion(
            v => JsonSerializer.Serialize(v, Options),
            v => JsonSerializer.Deserialize<T>(v, Options)!,
            new ValueComparer<T>(
                (a, b) => JsonSerializer.Serialize(a, Options) == JsonSerializer.Serialize(b, Options),
                v => JsonSerializer.Serialize(v, Options).GetHashCode(),
                v => JsonSerializer.Deserialize<T>(JsonSerializer.Serialize(v, Options), Options)!));
        return property;
    }
}
