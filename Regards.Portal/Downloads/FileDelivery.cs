using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Regards.Portal.Data;
using Regards.Portal.Orders;

namespace Regards.Portal.Downloads;

/// <summary>
/// The bytes of one order file that reached one recipient so far, while that file has not reached them whole yet
/// (a file sent in ranges, over several requests or connections). The row goes once the whole file has arrived: the
/// next download of the file starts from nothing. Written by the downloads feature only (<see cref="DeliveryLedger"/>);
/// a file's rows go with the file.
/// </summary>
public sealed class FileDelivery
{
    public long OrderFileId { get; set; }

    /// <summary>Who received the bytes: the signed-in user, or the owner of the public token, normalized (upper case).</summary>
    public required string Recipient { get; set; }

    /// <summary><see cref="ByteRanges"/> as text.</summary>
    public required string Ranges { get; set; }

    public DateTime UpdatedAt { get; set; }

    /// <summary>Each change is conditional on the version read: two responses ending at once both count.</summary>
    public long Version { get; set; }
}

internal sealed class FileDeliveryConfiguration : IEntityTypeConfiguration<FileDelivery>
{
    public void Configure(EntityTypeBuilder<FileDelivery> e)
    {
        e.ToTable("FileDeliveries");
        e.HasKey(x => new { x.OrderFileId, x.Recipient });
        e.Property(x => x.Recipient).HasMaxLength(256);
        e.Property(x => x.Ranges).HasMaxLength(ByteRanges.MaxTextLength);
        e.Property(x => x.Version).IsConcurrencyToken();
        e.HasOne<OrderFile>().WithMany().HasForeignKey(x => x.OrderFileId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal static class FileDeliveryDb
{
    public static DbSet<FileDelivery> FileDeliveries(this PortalDbContext db) => db.Set<FileDelivery>();
}
