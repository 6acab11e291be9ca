using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Regards.Portal.Data;

namespace Regards.Portal.Basket;

internal sealed class BasketConfiguration : IEntityTypeConfiguration<Basket>
{
    public void Configure(EntityTypeBuilder<Basket> e)
    {
        e.Property(x => x.Owner).HasMaxLength(256);
        e.HasIndex(x => new { x.Owner, x.OrderId });
        e.HasMany(x => x.DatasetSelections).WithOne(x => x.Basket).HasForeignKey(x => x.BasketId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class BasketDatasetSelectionConfiguration : IEntityTypeConfiguration<BasketDatasetSelection>
{
    public void Configure(EntityTypeBuilder<BasketDatasetSelection> e)
    {
        e.Property(x => x.DatasetId).HasMaxLength(200);
        e.Property(x => x.DatasetLabel).HasMaxLength(200);
        e.Property(x => x.FileFilter).HasJsonConversion();
        e.Property(x => x.Processing).HasJsonConversion();
        e.HasMany(x => x.ItemSelections).WithOne(x => x.DatasetSelection).HasForeignKey(x => x.DatasetSelectionId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class BasketItemSelectionConfiguration : IEntityTypeConfiguration<BasketItemSelection>
{
    public void Configure(EntityTypeBuilder<BasketItemSelection> e)
    {
        e.Property(x => x.Request).HasJsonConversion();
        e.HasIndex(x => new { x.DatasetSelectionId, x.Date }).IsUnique();
    }
}

internal sealed class BasketObjectConfiguration : IEntityTypeConfiguration<BasketObject>
{
    public void Configure(EntityTypeBuilder<BasketObject> e)
    {
        e.HasKey(x => new { x.DatasetSelectionId, x.DataObjectId });
        e.Property(x => x.DataObjectId).HasMaxLength(200);
        e.HasIndex(x => new { x.DatasetSelectionId, x.ItemDate });
        e.HasOne<BasketDatasetSelection>().WithMany().HasForeignKey(x => x.DatasetSelectionId).OnDelete(DeleteBehavior.Cascade);
    }
}
