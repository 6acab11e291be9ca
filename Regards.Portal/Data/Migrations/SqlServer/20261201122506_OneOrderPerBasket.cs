using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Regards.Portal.Data.Migrations.SqlServer
{
    /// <summary>
    /// One cart gives at most one order: a unique index on Orders.BasketId (null excluded). Two orders placed at once
    /// from one cart could both be written before the cart was marked taken, so existing databases may hold several
    /// orders of one cart: all but the oldest (smallest id) lose their BasketId first. They keep their files and
    /// status; restarting one answers that its selections are no longer known, and one still PENDING completes finding
    /// nothing to order. A cart that named one of them as its order names the kept one.
    /// </summary>
    public partial class OneOrderPerBasket : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Duplicates left by the race: the oldest order of each cart keeps it.
            migrationBuilder.Sql("""
                UPDATE [Orders] SET [BasketId] = NULL WHERE [BasketId] IS NOT NULL AND EXISTS (SELECT 1 FROM [Orders] AS o WHERE o.[BasketId] = [Orders].[BasketId] AND o.[Id] < [Orders].[Id]);
                """);
            // A cart that names one of those as its order now names the order that kept it (removing an order deletes its cart).
            migrationBuilder.Sql("""
                UPDATE [Baskets] SET [OrderId] = (SELECT o.[Id] FROM [Orders] AS o WHERE o.[BasketId] = [Baskets].[Id]) WHERE [Baskets].[OrderId] > 0 AND EXISTS (SELECT 1 FROM [Orders] AS o WHERE o.[BasketId] = [Baskets].[Id]) AND NOT EXISTS (SELECT 1 FROM [Orders] AS o WHERE o.[Id] = [Baskets].[OrderId] AND o.[BasketId] = [Baskets].[Id]);
                """);

            migrationBuilder.CreateIndex(
                name: "IX_Orders_BasketId",
                table: "Orders",
                column: "BasketId",
                unique: true,
                filter: "[BasketId] IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Orders_BasketId",
                table: "Orders");
        }
    }
}
