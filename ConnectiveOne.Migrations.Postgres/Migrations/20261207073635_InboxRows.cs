using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ConnectiveOne.Migrations.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class InboxRows : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "HasAttachments",
                table: "Tickets",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "LastDirection",
                table: "Tickets",
                type: "text",
                maxLength: 16,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "LastMessagePreview",
                table: "Tickets",
                type: "text",
                maxLength: 200,
                nullable: true);

            // Tickets from before: the mark and who wrote last from their messages; the preview is the start of the last
            // message's text (new messages cut off quoted history, MessagePreview; an old row's preview may include it).
            migrationBuilder.Sql(@"
UPDATE ""Tickets"" SET
  ""HasAttachments"" = EXISTS (SELECT 1 FROM ""Attachments"" a JOIN ""Messages"" m ON a.""MessageId"" = m.""Id"" WHERE m.""TicketId"" = ""Tickets"".""Id"" AND a.""IsInline"" = false),
  ""LastDirection"" = (SELECT m.""Direction"" FROM ""Messages"" m WHERE m.""TicketId"" = ""Tickets"".""Id"" AND m.""Direction"" <> 'Note' ORDER BY m.""ReceivedAt"" DESC, m.""Id"" DESC LIMIT 1),
  ""LastMessagePreview"" = (SELECT substr(trim(replace(replace(m.""Text"", chr(13), ' '), chr(10), ' ')), 1, 200) FROM ""Messages"" m
          WHERE m.""TicketId"" = ""Tickets"".""Id"" AND m.""Direction"" <> 'Note' ORDER BY m.""ReceivedAt"" DESC, m.""Id"" DESC LIMIT 1);");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "HasAttachments",
                table: "Tickets");

            migrationBuilder.DropColumn(
                name: "LastDirection",
                table: "Tickets");

            migrationBuilder.DropColumn(
                name: "LastMessagePreview",
                table: "Tickets");
        }
    }
}
