using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ConnectiveOne.Core.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class IngestIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Messages_MessageIdHeader",
                table: "Messages");

            migrationBuilder.CreateIndex(
                name: "IX_Messages_AddressId_MessageIdHeader",
                table: "Messages",
                columns: new[] { "AddressId", "MessageIdHeader" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Messages_AddressId_MessageIdHeader",
                table: "Messages");

            migrationBuilder.CreateIndex(
                name: "IX_Messages_MessageIdHeader",
                table: "Messages",
                column: "MessageIdHeader");
        }
    }
}
