using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Regards.Portal.Data.Migrations.SqlServer
{
    /// <inheritdoc />
    public partial class FileDeliveries : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "FileDeliveries",
                columns: table => new
                {
                    OrderFileId = table.Column<long>(type: "bigint", nullable: false),
                    Recipient = table.Column<string>(type: "nvarchar(256)", maxLength: 256, nullable: false),
                    Ranges = table.Column<string>(type: "nvarchar(1280)", maxLength: 1280, nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "datetime2", nullable: false),
                    Version = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_FileDeliveries", x => new { x.OrderFileId, x.Recipient });
                    table.ForeignKey(
                        name: "FK_FileDeliveries_OrderFiles_OrderFileId",
                        column: x => x.OrderFileId,
                        principalTable: "OrderFiles",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "FileDeliveries");
        }
    }
}
