using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ConnectiveOne.Core.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class InboxIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_Tickets_AssigneeId_LastMessageAt_BotId",
                table: "Tickets",
                columns: new[] { "AssigneeId", "LastMessageAt", "BotId" });

            migrationBuilder.CreateIndex(
                name: "IX_Tickets_Status_LastMessageAt_BotId",
                table: "Tickets",
                columns: new[] { "Status", "LastMessageAt", "BotId" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Tickets_AssigneeId_LastMessageAt_BotId",
                table: "Tickets");

            migrationBuilder.DropIndex(
                name: "IX_Tickets_Status_LastMessageAt_BotId",
                table: "Tickets");
        }
    }
}
