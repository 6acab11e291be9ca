using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Regards.Portal.Admin;

internal sealed class UiModuleSettingsConfiguration : IEntityTypeConfiguration<UiModuleSettings>
{
    public void Configure(EntityTypeBuilder<UiModuleSettings> e)
    {
        e.HasKey(x => x.ModuleId);
        e.Property(x => x.ModuleId).HasMaxLength(50);
        e.Property(x => x.TitleEn).HasMaxLength(100);
        e.Property(x => x.TitleFr).HasMaxLength(100);
        e.Property(x => x.Description).HasMaxLength(500);
        e.Property(x => x.Icon).HasMaxLength(50);
        e.Property(x => x.Version).IsConcurrencyToken();
    }
}

internal sealed class PortalSettingsConfiguration : IEntityTypeConfiguration<PortalSettings>
{
    public void Configure(EntityTypeBuilder<PortalSettings> e)
    {
        e.Property(x => x.Id).ValueGeneratedNever();
        e.Property(x => x.Version).IsConcurrencyToken();
    }
}
