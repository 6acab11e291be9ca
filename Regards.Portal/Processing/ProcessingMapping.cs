using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Regards.Portal.Processing;

internal sealed class ProcessingSettingsConfiguration : IEntityTypeConfiguration<ProcessingSettings>
{
    public void Configure(EntityTypeBuilder<ProcessingSettings> e)
    {
        e.HasKey(x => x.BusinessId);
        e.Property(x => x.BusinessId).HasMaxLength(100);
        e.Property(x => x.MinimumRole).HasMaxLength(50);
        e.Property(x => x.Version).IsConcurrencyToken();
    }
}
