using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ConnectiveOne.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class AttachmentContents : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "AttachmentContents",
                columns: table => new
                {
                    Sha256 = table.Column<string>(type: "text", maxLength: 64, nullable: false),
                    Bytes = table.Column<byte[]>(type: "bytea", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AttachmentContents", x => x.Sha256);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "AttachmentContents");
        }
    }
}
