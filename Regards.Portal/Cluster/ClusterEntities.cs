using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Regards.Portal.Cluster;

/// <summary>
/// One row of the change feed: "this <see cref="Kind"/> of thing, <see cref="Key"/>, changed on instance
/// <see cref="Origin"/>". Rows carry no state: a reader reads the thing itself, so a row read late or twice is harmless.
/// </summary>
public class ChangeFeedEntry
{
    public long Id { get; set; }
    public required string Kind { get; set; }
    public required string Key { get; set; }
    public required string Origin { get; set; }
    public DateTime CreatedAt { get; set; }
}

internal sealed class ChangeFeedEntryConfiguration : IEntityTypeConfiguration<ChangeFeedEntry>
{
    public void Configure(EntityTypeBuilder<ChangeFeedEntry> e)
    {
        e.ToTable("ChangeFeed");
        // SQLite: AUTOINCREMENT, so that an id is never given twice even after the newest rows were pruned.
        e.Property(x => x.Id).HasAnnotation("Sqlite:Autoincrement", true);
        e.Property(x => x.Kind).HasMaxLength(32);
        e.Property(x => x.Key).HasMaxLength(256);
        e.Property(x => x.Origin).HasMaxLength(100);
        e.HasIndex(x => x.CreatedAt);
    }
}
