using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ConnectiveOne.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class Snooze : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "SnoozeFailure",
                table: "Tickets",
                type: "text",
                maxLength: 500,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "SnoozedUntil",
                table: "Tickets",
                type: "bigint",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_Tickets_SnoozedUntil",
                table: "Tickets",
                column: "SnoozedUntil");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Tickets_SnoozedUntil",
                table: "Tickets");

            migrationBuilder.DropColumn(
                name: "SnoozeFailure",
                table: "Tickets");

            migrationBuilder.DropColumn(
                name: "SnoozedUntil",
                table: "Tickets");
        }
    }
}
