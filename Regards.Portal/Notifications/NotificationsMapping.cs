using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Regards.Portal.Notifications;

internal sealed class OutboxMailConfiguration : IEntityTypeConfiguration<OutboxMail>
{
    public void Configure(EntityTypeBuilder<OutboxMail> e)
    {
        e.Property(x => x.To).HasMaxLength(320);
        e.Property(x => x.Subject).HasMaxLength(500);
        e.Property(x => x.LastError).HasMaxLength(1000);
        e.Property(x => x.LeaseOwner).HasMaxLength(100);
        e.HasIndex(x => new { x.GaveUp, x.NextAttemptAt });
    }
}
