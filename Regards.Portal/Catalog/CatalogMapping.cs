using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Regards.Portal.Catalog;

internal sealed class DatasetConfiguration : IEntityTypeConfiguration<Dataset>
{
    public void Configure(EntityTypeBuilder<Dataset> e)
    {
        e.HasKey(x => x.Id);
        e.Property(x => x.Id).HasMaxLength(200);
        e.Property(x => x.Label).HasMaxLength(200);
        e.Property(x => x.Description).HasMaxLength(2000);
    }
}

internal sealed class DataObjectConfiguration : IEntityTypeConfiguration<DataObject>
{
    public void Configure(EntityTypeBuilder<DataObject> e)
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
    }
}

internal sealed class DataFileConfiguration : IEntityTypeConfiguration<DataFile>
{
    public void Configure(EntityTypeBuilder<DataFile> e)
    {
        e.Property(x => x.Name).HasMaxLength(255);
        e.Property(x => x.MimeType).HasMaxLength(100);
        e.Property(x => x.Checksum).HasMaxLength(64);
        e.Property(x => x.Md5).HasMaxLength(32);
        e.Property(x => x.Location).HasMaxLength(1000);
        e.HasIndex(x => x.DataObjectId);
    }
}

internal sealed class AccessGroupConfiguration : IEntityTypeConfiguration<AccessGroup>
{
    public void Configure(EntityTypeBuilder<AccessGroup> e)
    {
        e.HasKey(x => x.Name);
        e.Property(x => x.Name).HasMaxLength(100);
    }
}

internal sealed class UserAccessGroupConfiguration : IEntityTypeConfiguration<UserAccessGroup>
{
    public void Configure(EntityTypeBuilder<UserAccessGroup> e)
    {
        e.HasKey(x => new { x.UserEmail, x.GroupName });
        e.Property(x => x.UserEmail).HasMaxLength(256);
        e.Property(x => x.GroupName).HasMaxLength(100);
    }
}

internal sealed class DatasetAccessRightConfiguration : IEntityTypeConfiguration<DatasetAccessRight>
{
    public void Configure(EntityTypeBuilder<DatasetAccessRight> e)
    {
        e.HasKey(x => new { x.GroupName, x.DatasetId });
        e.Property(x => x.GroupName).HasMaxLength(100);
        e.Property(x => x.DatasetId).HasMaxLength(200);
    }
}
