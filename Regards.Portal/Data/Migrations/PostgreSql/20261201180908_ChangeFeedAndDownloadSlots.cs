using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Regards.Portal.Data.Migrations.PostgreSql
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
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false, collation: "C"),
                    Key = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false, collation: "C"),
                    Origin = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false, collation: "C"),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ChangeFeed", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "DownloadSlots",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Owner = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false, collation: "C"),
                    Kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false, collation: "C"),
                    Instance = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false, collation: "C"),
                    ExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
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
