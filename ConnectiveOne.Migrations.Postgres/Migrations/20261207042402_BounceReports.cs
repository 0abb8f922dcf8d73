using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace ConnectiveOne.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class BounceReports : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "BouncedRecipient",
                table: "Messages",
                type: "text",
                maxLength: 1000,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "DeliveryReports",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    MessageId = table.Column<long>(type: "bigint", nullable: false),
                    AddressId = table.Column<Guid>(type: "uuid", nullable: false),
                    DedupKey = table.Column<string>(type: "text", maxLength: 1000, nullable: false),
                    ReceivedAt = table.Column<long>(type: "bigint", nullable: false),
                    Action = table.Column<string>(type: "text", maxLength: 16, nullable: false),
                    Recipient = table.Column<string>(type: "text", maxLength: 1000, nullable: true),
                    Status = table.Column<string>(type: "text", maxLength: 16, nullable: true),
                    Diagnostic = table.Column<string>(type: "text", maxLength: 1000, nullable: false),
                    FromAddress = table.Column<string>(type: "text", maxLength: 320, nullable: false),
                    Subject = table.Column<string>(type: "text", maxLength: 1000, nullable: false),
                    Raw = table.Column<byte[]>(type: "bytea", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DeliveryReports", x => x.Id);
                    table.ForeignKey(
                        name: "FK_DeliveryReports_Messages_MessageId",
                        column: x => x.MessageId,
                        principalTable: "Messages",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_DeliveryReports_AddressId_DedupKey",
                table: "DeliveryReports",
                columns: new[] { "AddressId", "DedupKey" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_DeliveryReports_MessageId",
                table: "DeliveryReports",
                column: "MessageId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "DeliveryReports");

            migrationBuilder.DropColumn(
                name: "BouncedRecipient",
                table: "Messages");
        }
    }
}
