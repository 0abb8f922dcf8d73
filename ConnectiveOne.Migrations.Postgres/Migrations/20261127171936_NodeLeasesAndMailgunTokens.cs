using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ConnectiveOne.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class NodeLeasesAndMailgunTokens : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "LeaseExpiresAt",
                table: "Outbox",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "LeaseOwner",
                table: "Outbox",
                type: "text",
                maxLength: 200,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "LeaseExpiresAt",
                table: "Domains",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "LeaseOwner",
                table: "Domains",
                type: "text",
                maxLength: 200,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "MailgunTokens",
                columns: table => new
                {
                    Token = table.Column<string>(type: "text", maxLength: 200, nullable: false),
                    ExpiresAt = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_MailgunTokens", x => x.Token);
                });

            migrationBuilder.CreateIndex(
                name: "IX_MailgunTokens_ExpiresAt",
                table: "MailgunTokens",
                column: "ExpiresAt");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "MailgunTokens");

            migrationBuilder.DropColumn(
                name: "LeaseExpiresAt",
                table: "Outbox");

            migrationBuilder.DropColumn(
                name: "LeaseOwner",
                table: "Outbox");

            migrationBuilder.DropColumn(
                name: "LeaseExpiresAt",
                table: "Domains");

            migrationBuilder.DropColumn(
                name: "LeaseOwner",
                table: "Domains");
        }
    }
}
