using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Regards.Portal.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ChangeFeedAndDownloadSlots : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "ChangeFeed",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Key = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    Origin = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ChangeFeed", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "DownloadSlots",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Owner = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Instance = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DownloadSlots", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ChangeFeed_CreatedAt",
                table: "ChangeFeed",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_DownloadSlots_Instance",
                table: "DownloadSlots",
                column: "Instance");

            migrationBuilder.CreateIndex(
                name: "IX_DownloadSlots_Owner_Kind",
                table: "DownloadSlots",
                columns: new[] { "Owner", "Kind" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ChangeFeed");

            migrationBuilder.DropTable(
                name: "DownloadSlots");
        }
    }
}
