using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ConnectiveOne.Core.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class SetupDomains : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "VerifiedAt",
                table: "Domains",
                type: "INTEGER",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "VerifiedAt",
                table: "Domains");
        }
    }
}
