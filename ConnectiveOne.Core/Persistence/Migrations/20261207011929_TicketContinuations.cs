using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ConnectiveOne.Core.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class TicketContinuations : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "ContinuesTicketId",
                table: "Tickets",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_Tickets_ContinuesTicketId",
                table: "Tickets",
                column: "ContinuesTicketId");

            migrationBuilder.AddForeignKey(
                name: "FK_Tickets_Tickets_ContinuesTicketId",
                table: "Tickets",
                column: "ContinuesTicketId",
                principalTable: "Tickets",
                principalColumn: "Id",
                onDelete: ReferentialAction.SetNull);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_Tickets_Tickets_ContinuesTicketId",
                table: "Tickets");

            migrationBuilder.DropIndex(
                name: "IX_Tickets_ContinuesTicketId",
                table: "Tickets");

            migrationBuilder.DropColumn(
                name: "ContinuesTicketId",
                table: "Tickets");
        }
    }
}
