using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Regards.Portal.Data.Migrations.Sqlite
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
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            // Orders placed before this column: AVAILABLE (1) files that are not links (tier External = 2).
            // WRONG, kept as it ran: enums are stored by name, so on SQLite 'Available' = 1 is false and every order got 0
            // (no zip button). RecomputeOrderCountersFromFiles repairs the counters.
            migrationBuilder.Sql("UPDATE Orders SET ZippableFilesCount = (SELECT COUNT(*) FROM OrderFiles f WHERE f.OrderId = Orders.Id AND f.State = 1 AND f.Tier <> 2)");
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
