using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Regards.Portal.Data.Migrations.SqlServer
{
    /// <inheritdoc />
    public partial class ZippableFilesCount : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "ZippableFilesCount",
                table: "Orders",
                type: "int",
                nullable: false,
                defaultValue: 0);

            // Orders placed before this column: AVAILABLE files that are not links. Enums are stored by name: the first
            // version compared them with numbers (State = 1, Tier <> 2), which SQL Server refuses on any row ('Conversion
            // failed when converting the nvarchar value'), so no database with order files could pass this migration and
            // none ran the faulty text. RecomputeOrderCountersFromFiles recomputes the counters again anyway.
            // In EXEC: the idempotent script runs this in the batch that adds the column, and SQL Server compiles a whole
            // batch before running it ("Invalid column name").
            migrationBuilder.Sql("EXEC(N'UPDATE [Orders] SET [ZippableFilesCount] = (SELECT COUNT(*) FROM [OrderFiles] AS f WHERE f.[OrderId] = [Orders].[Id] AND f.[State] = ''Available'' AND f.[Tier] <> ''External'')');");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ZippableFilesCount",
                table: "Orders");
        }
    }
}
