using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Regards.Portal.Data.Migrations.SqlServer
{
    /// <inheritdoc />
    public partial class SignInThrottle : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "AttemptCounters",
                columns: table => new
                {
                    Key = table.Column<string>(type: "nvarchar(80)", maxLength: 80, nullable: false),
                    Count = table.Column<int>(type: "int", nullable: false),
                    WindowStartsAt = table.Column<DateTime>(type: "datetime2", nullable: false),
                    LastAt = table.Column<DateTime>(type: "datetime2", nullable: false),
                    BlockedUntil = table.Column<DateTime>(type: "datetime2", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AttemptCounters", x => x.Key);
                });

            migrationBuilder.CreateIndex(
                name: "IX_AttemptCounters_LastAt",
                table: "AttemptCounters",
                column: "LastAt");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "AttemptCounters");
        }
    }
}
