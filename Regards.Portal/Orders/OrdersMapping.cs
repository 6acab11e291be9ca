using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Regards.Portal.Data;

namespace Regards.Portal.Orders;

internal sealed class OrderConfiguration : IEntityTypeConfiguration<Order>
{
    public void Configure(EntityTypeBuilder<Order> e)
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
        // One cart gives at most one order (a restart copies the cart): two orders placed at once from one cart cannot
        // both be written. Null (no cart known) is not unique: SQL Server's index is filtered on NOT NULL.
        e.HasIndex(x => x.BasketId).IsUnique();
        e.HasMany(x => x.DatasetTasks).WithOne(x => x.Order).HasForeignKey(x => x.OrderId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class DatasetTaskConfiguration : IEntityTypeConfiguration<DatasetTask>
{
    public void Configure(EntityTypeBuilder<DatasetTask> e)
    {
        e.Property(x => x.DatasetId).HasMaxLength(200);
        e.Property(x => x.DatasetLabel).HasMaxLength(200);
        e.Property(x => x.SelectionRequests).HasJsonConversion();
        e.Property(x => x.FileFilter).HasJsonConversion();
        e.Property(x => x.Processing).HasJsonConversion();
    }
}

internal sealed class SubOrderConfiguration : IEntityTypeConfiguration<SubOrder>
{
    public void Configure(EntityTypeBuilder<SubOrder> e)
    {
        e.Property(x => x.Owner).HasMaxLength(256);
        e.Property(x => x.LeaseOwner).HasMaxLength(100);
        e.Property(x => x.Version).IsConcurrencyToken();
        e.HasOne(x => x.Order).WithMany().HasForeignKey(x => x.OrderId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => new { x.JobState, x.Owner });
        e.HasIndex(x => new { x.OrderId, x.Sequence });
    }
}

internal sealed class OrderFileConfiguration : IEntityTypeConfiguration<OrderFile>
{
    public void Configure(EntityTypeBuilder<OrderFile> e)
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
    }
}
