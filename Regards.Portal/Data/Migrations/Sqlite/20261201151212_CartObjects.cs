using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Regards.Portal.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class CartObjects : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "BasketObjects",
                columns: table => new
                {
                    DatasetSelectionId = table.Column<long>(type: "INTEGER", nullable: false),
                    DataObjectId = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    ItemDate = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_BasketObjects", x => new { x.DatasetSelectionId, x.DataObjectId });
                    table.ForeignKey(
                        name: "FK_BasketObjects_BasketDatasetSelections_DatasetSelectionId",
                        column: x => x.DatasetSelectionId,
                        principalTable: "BasketDatasetSelections",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_BasketObjects_DatasetSelectionId_ItemDate",
                table: "BasketObjects",
                columns: new[] { "DatasetSelectionId", "ItemDate" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "BasketObjects");
        }
    }
}
