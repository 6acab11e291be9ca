using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Regards.Portal.Data.Migrations.SqlServer
{
    /// <summary>
    /// Data only. The ZippableFilesCount migration backfilled the new column comparing the enum columns with numbers
    /// (<c>State = 1</c>, <c>Tier &lt;&gt; 2</c>) while enums are stored by name ('Available', 'External'): on SQLite
    /// every existing order got 0 and lost its zip button. This recomputes, for every order that
    /// <c>OrderProgress.RecomputeAsync</c> would recompute (completed, not EXPIRED / DELETED / ERROR), the stored counters
    /// from its files exactly as that method does: AVAILABLE files; AVAILABLE files that are not external links; files
    /// in ERROR or PROCESSING_ERROR; per cent of bytes no longer PENDING, rounded down, 100 when there are no bytes.
    /// </summary>
    public partial class RecomputeOrderCountersFromFiles : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Enums by name; integer arithmetic on both providers, so the division rounds down as the running code's does;
            // no file at all gives no sum, hence 100.
            migrationBuilder.Sql("""
                UPDATE [Orders] SET
                    [AvailableFilesCount] = (SELECT COUNT(*) FROM [OrderFiles] AS f WHERE f.[OrderId] = [Orders].[Id] AND f.[State] = 'Available'),
                    [ZippableFilesCount] = (SELECT COUNT(*) FROM [OrderFiles] AS f WHERE f.[OrderId] = [Orders].[Id] AND f.[State] = 'Available' AND f.[Tier] <> 'External'),
                    [FilesInErrorCount] = (SELECT COUNT(*) FROM [OrderFiles] AS f WHERE f.[OrderId] = [Orders].[Id] AND f.[State] IN ('Error', 'ProcessingError')),
                    [PercentCompleted] = COALESCE((
                        SELECT CASE WHEN SUM(f.[Size]) = 0 THEN 100
                                    ELSE 100 * SUM(CASE WHEN f.[State] <> 'Pending' THEN f.[Size] ELSE 0 END) / SUM(f.[Size]) END
                        FROM [OrderFiles] AS f WHERE f.[OrderId] = [Orders].[Id]), 100)
                WHERE [CompletionDate] IS NOT NULL AND [Status] NOT IN ('Expired', 'Deleted', 'Error');
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // Nothing to undo: the counters it replaced were wrong.
        }
    }
}
