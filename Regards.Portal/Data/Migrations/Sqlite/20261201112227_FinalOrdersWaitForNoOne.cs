using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Regards.Portal.Data.Migrations.Sqlite
{
    /// <summary>
    /// Data only: orders deleted before the fix kept "waiting for the user" (on the order and its sub-orders), so the
    /// admin filter and the dashboard counted them. A final order waits for no one. Statuses are stored by name.
    /// </summary>
    public partial class FinalOrdersWaitForNoOne : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("UPDATE \"SubOrders\" SET \"WaitingForUser\" = 0 WHERE \"WaitingForUser\" <> 0 AND \"OrderId\" IN (SELECT \"Id\" FROM \"Orders\" WHERE \"Status\" IN ('Deleted', 'Expired', 'Failed', 'Error'));");
            migrationBuilder.Sql("UPDATE \"Orders\" SET \"WaitingForUser\" = 0 WHERE \"WaitingForUser\" <> 0 AND \"Status\" IN ('Deleted', 'Expired', 'Failed', 'Error');");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // Nothing to undo: the flags it cleared were wrong.
        }
    }
}
