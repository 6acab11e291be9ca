using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Regards.Portal.Identity;

internal sealed class AttemptCounterConfiguration : IEntityTypeConfiguration<AttemptCounter>
{
    public const int KeyLength = 80;

    public void Configure(EntityTypeBuilder<AttemptCounter> e)
    {
        e.HasKey(x => x.Key);
        e.Property(x => x.Key).HasMaxLength(KeyLength);
        // The clean-up deletes by age.
        e.HasIndex(x => x.LastAt);
    }
}
