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

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Enums as readable strings; every date is UTC (SQLite stores text and forgets the kind).
        configurationBuilder.Properties<Enum>().HaveConversion<string>().HaveMaxLength(32);
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<NullableUtcDateTimeConverter>();
    }

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);

        builder.Entity<Dataset>(e =>
        {
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).HasMaxLength(200);
            e.Property(x => x.Label).HasMaxLength(200);
            e.Property(x => x.Description).HasMaxLength(2000);
        });
        builder.Entity<DataObject>(e =>
        {
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).HasMaxLength(200);
            e.Property(x => x.ProviderId).HasMaxLength(200);
            e.Property(x => x.Label).HasMaxLength(300);
            e.Property(x => x.DatasetId).HasMaxLength(200);
            e.Property(x => x.Platform).HasMaxLength(100);
            e.Property(x => x.Instrument).HasMaxLength(100);
            e.Property(x => x.ProcessingLevel).HasMaxLength(50);
            e.HasIndex(x => x.ProviderId).IsUnique();
            e.HasIndex(x => new { x.DatasetId, x.AcquisitionDate });
            e.HasOne(x => x.Dataset).WithMany().HasForeignKey(x => x.DatasetId);
            e.HasMany(x => x.Files).WithOne(x => x.DataObject).HasForeignKey(x => x.DataObjectId);
        });
        builder.Entity<DataFile>(e =>
        {
            e.Property(x => x.Name).HasMaxLength(255);
            e.Property(x => x.MimeType).HasMaxLength(100);
            e.Property(x => x.Checksum).HasMaxLength(64);
            e.Property(x => x.Md5).HasMaxLength(32);
            e.Property(x => x.Location).HasMaxLength(1000);
            e.HasIndex(x => x.DataObjectId);
        });
        builder.Entity<AccessGroup>(e =>
        {
            e.HasKey(x => x.Name);
            e.Property(x => x.Name).HasMaxLength(100);
        });
        builder.Entity<UserAccessGroup>(e =>
        {
            e.HasKey(x => new { x.UserEmail, x.GroupName });
            e.Property(x => x.UserEmail).HasMaxLength(256);
            e.Property(x => x.GroupName).HasMaxLength(100);
        });
        builder.Entity<DatasetAccessRight>(e =>
        {
            e.HasKey(x => new { x.GroupName, x.DatasetId });
            e.Property(x => x.GroupName).HasMaxLength(100);
            e.Property(x => x.DatasetId).HasMaxLength(200);
        });

        builder.Entity<Basket.Basket>(e =>
        {
            e.Property(x => x.Owner).HasMaxLength(256);
            e.HasIndex(x => new { x.Owner, x.OrderId });
            e.HasMany(x => x.DatasetSelections).WithOne(x => x.Basket).HasForeignKey(x => x.BasketId).OnDelete(DeleteBehavior.Cascade);
        });
        builder.Entity<BasketDatasetSelection>(e =>
        {
            e.Property(x => x.DatasetId).HasMaxLength(200);
            e.Property(x => x.DatasetLabel).HasMaxLength(200);
            e.Property(x => x.FileFilter).HasJsonConversion();
            e.Property(x => x.Processing).HasJsonConversion();
            e.HasMany(x => x.ItemSelections).WithOne(x => x.DatasetSelection).HasForeignKey(x => x.DatasetSelectionId).OnDelete(DeleteBehavior.Cascade);
        });
        builder.Entity<BasketItemSelection>(e =>
        {
            e.Property(x => x.Request).HasJsonConversion();
            e.HasIndex(x => new { x.DatasetSelectionId, x.Date }).IsUnique();
        });

        builder.Entity<Order>(e =>
        {
            e.Property(x => x.Owner).HasMaxLength(256);
            e.Property(x => x.Label).HasMaxLength(50);
            e.Property(x => x.Message).HasMaxLength(255);
            e.Property(x => x.LeaseOwner).HasMaxLength(100);
            e.Property(x => x.Version).IsConcurrencyToken();
            e.HasIndex(x => new { x.Owner, x.Label }).IsUnique();
            e.HasIndex(x => new { x.Owner, x.CreationDate });
            e.HasIndex(x => new { x.Status, x.CreationDate });
            e.HasIndex(x => x.CreationDate);
            e.HasMany(x => x.DatasetTasks).WithOne(x => x.Order).HasForeignKey(x => x.OrderId).OnDelete(DeleteBehavior.Cascade);
        });
        builder.Entity<Processing.ProcessingSettings>(e =>
        {
            e.HasKey(x => x.BusinessId);
            e.Property(x => x.BusinessId).HasMaxLength(100);
            e.Property(x => x.MinimumRole).HasMaxLength(50);
            e.Property(x => x.Version).IsConcurrencyToken();
        });
        builder.Entity<DatasetTask>(e =>
        {
            e.Property(x => x.DatasetId).HasMaxLength(200);
            e.Property(x => x.DatasetLabel).HasMaxLength(200);
            e.Property(x => x.SelectionRequests).HasJsonConversion();
            e.Property(x => x.FileFilter).HasJsonConversion();
            e.Property(x => x.Processing).HasJsonConversion();
        });
        builder.Entity<SubOrder>(e =>
        {
            e.Property(x => x.Owner).HasMaxLength(256);
            e.Property(x => x.LeaseOwner).HasMaxLength(100);
            e.Property(x => x.Version).IsConcurrencyToken();
            e.HasOne(x => x.Order).WithMany().HasForeignKey(x => x.OrderId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(x => new { x.JobState, x.Owner });
            e.HasIndex(x => new { x.OrderId, x.Sequence });
        });
        builder.Entity<OrderFile>(e =>
        {
            e.Property(x => x.DataObjectId).HasMaxLength(200);
            e.Property(x => x.ProviderId).HasMaxLength(200);
            e.Property(x => x.Name).HasMaxLength(255);
            e.Property(x => x.MimeType).HasMaxLength(100);
            e.Property(x => x.Checksum).HasMaxLength(64);
            e.Property(x => x.Md5).HasMaxLength(32);
            e.Property(x => x.Location).HasMaxLength(1000);
            e.Property(x => x.DownloadError).HasMaxLength(500);
            e.Property(x => x.Version).IsConcurrencyToken();
            e.HasIndex(x => x.PublicId).IsUnique();
            e.HasIndex(x => new { x.OrderId, x.State });
            e.HasIndex(x => new { x.SubOrderId, x.State });
            e.HasIndex(x => new { x.DatasetTaskId, x.Id });
            e.HasOne<Order>().WithMany().HasForeignKey(x => x.OrderId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<SubOrder>().WithMany().HasForeignKey(x => x.SubOrderId).OnDelete(DeleteBehavior.NoAction);
        });

        builder.Entity<UiModuleSettings>(e =>
        {
            e.HasKey(x => x.ModuleId);
            e.Property(x => x.ModuleId).HasMaxLength(50);
            e.Property(x => x.TitleEn).HasMaxLength(100);
            e.Property(x => x.TitleFr).HasMaxLength(100);
            e.Property(x => x.Description).HasMaxLength(500);
            e.Property(x => x.Icon).HasMaxLength(50);
            e.Property(x => x.Version).IsConcurrencyToken();
        });
        builder.Entity<PortalSettings>(e =>
        {
            e.Property(x => x.Id).ValueGeneratedNever();
            e.Property(x => x.Version).IsConcurrencyToken();
        });

        builder.Entity<JobLease>(e =>
        {
            e.HasKey(x => x.Name);
            e.Property(x => x.Name).HasMaxLength(100);
            e.Property(x => x.Owner).HasMaxLength(100);
        });

        builder.Entity<Notifications.OutboxMail>(e =>
        {
            e.Property(x => x.To).HasMaxLength(320);
            e.Property(x => x.Subject).HasMaxLength(500);
            e.Property(x => x.LastError).HasMaxLength(1000);
            e.Property(x => x.LeaseOwner).HasMaxLength(100);
            e.HasIndex(x => new { x.GaveUp, x.NextAttemptAt });
        });
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
