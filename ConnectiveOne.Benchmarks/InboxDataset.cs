using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Bots;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Persistence;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Benchmarks;

/// <summary>
/// The inbox benchmark's database: 100,000 tickets with 1,000,000 messages over 20 addresses (16 served by bots),
/// two years of history, one ticket with exactly 50 messages, and one operator's unread marks. The schema is the
/// app's own (migrations); the rows go in with raw prepared inserts (EF would take many minutes). Generated once
/// and cached under /tmp; a reuse applies newer migrations, so added indexes are measured on the same rows.
/// </summary>
internal static class InboxDataset
{
    public const int TicketCount = 100_000;
    public const int MessageCount = 1_000_000;

    /// <summary>The ticket with exactly 50 messages, a week old and still active.</summary>
    public const long FiftyMessageTicketId = 99_000;

    /// <summary>The operator whose unread marks are stored (about a third of the tickets seen).</summary>
    public const string OperatorId = "op-1";

    private const int Version = 1; // bump when the generated rows change
    private const string DatabaseFile = "connectiveone.db";

    private static readonly string[] FirstNames =
    [
        "Anna", "Ben", "Chloe", "David", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira", "Liam", "Maya", "Noah",
        "Olga", "Pavel", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera", "Wen", "Xavier", "Yara", "Zoe", "Marta", "Luca",
    ];

    private static readonly string[] LastNames =
    [
        "Holloway", "Fischer", "Nakamura", "Okafor", "Dubois", "Kowalski", "Silva", "Andersen", "Rossi", "Petrov", "Haddad",
        "Moreau", "Schmidt", "Garcia", "Novak", "Ivanova", "Brennan", "Lindqvist", "Tanaka", "Mendes", "Weber", "Costa",
    ];

    private static readonly string[] MailDomains =
        ["gmail.com", "outlook.com", "yahoo.com", "proton.me", "web.de", "icloud.com", "fastmail.com", "example.org"];

    private static readonly string[] Products =
    [
        "the Trail 2 backpack", "the kettle", "my standing desk", "the X200 headphones", "the winter jacket", "the router",
        "the coffee grinder", "my annual plan", "the mobile app", "the gift card", "the running shoes", "the lamp",
    ];

    private static readonly string[] SubjectTemplates =
    [
        "Order #{0} has not arrived", "Refund for order #{0}", "Invoice {1}-{0} shows the wrong amount", "Can't sign in to my account",
        "Question about {2}", "Damaged item in order #{0}", "Change the delivery address for order #{0}", "Password reset mail never came",
        "Cancel my subscription", "Wrong size, exchange please (order #{0})", "Charged twice for order #{0}", "Where is my refund?",
        "Discount code not accepted", "Need an invoice with VAT number for order #{0}", "{2} stopped working", "Warranty claim for {2}",
    ];

    private static readonly string[] Sentences =
    [
        "Hello, I ordered this two weeks ago and the tracking page has not changed since Monday.",
        "Could you please tell me when I can expect the refund on my card?",
        "I have attached a photo of the box as it arrived at my door.",
        "The invoice lists the old address of our company; we moved in March.",
        "Thank you for the quick answer yesterday, it works now.",
        "Unfortunately the problem is back after the update this morning.",
        "I tried resetting the password twice but no email arrived, not even in spam.",
        "Our accounting department needs the VAT number on every invoice.",
        "Is it possible to exchange it for the larger size instead of a refund?",
        "We have been customers for years and this has never happened before.",
        "Please cancel the order if it cannot be delivered before Friday.",
        "I am happy to send more details if that helps you look into it.",
        "Thanks for your patience, we have passed this on to the warehouse.",
        "The replacement is on its way and should arrive within three working days.",
        "I have refunded the second charge; your bank may take a few days to show it.",
        "Could you send us the order number and the email address you used?",
        "Best regards and have a nice weekend.",
        "Kind regards, and thanks again for your help.",
    ];

    /// <summary>The data folder (holding connectiveone.db) with the dataset, generating it when not cached.</summary>
    public static async Task<string> EnsureAsync()
    {
        // Keyed on the first migration: when the migrations are regenerated as a new Initial, the cache starts afresh.
        var firstMigration = typeof(AppDbContext).Assembly.GetTypes()
            .Select(t => t.GetCustomAttribute<MigrationAttribute>()?.Id).OfType<string>().Order().First();
        var data = Path.Combine(Path.GetTempPath(), "c1-bench-inbox", $"v{Version}-{firstMigration}");
        var complete = Path.Combine(data, "complete");
        if (File.Exists(complete) && !await KnowsAllAppliedMigrationsAsync(data))
            File.Delete(complete); // it saw migrations this code does not have (another branch): start afresh
        if (!File.Exists(complete))
        {
            if (Directory.Exists(data))
                Directory.Delete(data, recursive: true);
            Console.WriteLine($"Generating the dataset in {data} (once; later runs reuse it) ...");
            var sw = Stopwatch.StartNew();
            await GenerateAsync(data);
            await File.WriteAllTextAsync(complete, DateTimeOffset.UtcNow.ToString("O"));
            Console.WriteLine($"  generated in {sw.Elapsed.TotalSeconds:0} s");
        }

        using var host = BenchHost.Build(data);
        await using var scope = host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var pending = (await db.Database.GetPendingMigrationsAsync()).ToList();
        if (pending.Count > 0)
        {
            Console.WriteLine($"Applying {string.Join(", ", pending)} to the cached dataset ...");
            await db.Database.MigrateAsync();
        }
        SqliteConnection.ClearAllPools();
        return data;
    }

    private static async Task<bool> KnowsAllAppliedMigrationsAsync(string data)
    {
        using var host = BenchHost.Build(data);
        await using var scope = host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var known = db.Database.GetMigrations().ToHashSet();
        var applied = await db.Database.GetAppliedMigrationsAsync();
        SqliteConnection.ClearAllPools();
        return applied.All(known.Contains);
    }

    private static async Task GenerateAsync(string data)
    {
        var now = DateTimeOffset.UtcNow;
        List<(Guid Id, string Email, Guid? BotId)> addresses;
        using (var host = BenchHost.Build(data))
        {
            await using var scope = host.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            await db.Database.MigrateAsync();
            addresses = await AddAddressesAndBotsAsync(db, now);
        }
        SqliteConnection.ClearAllPools();

        await using var connection = new SqliteConnection($"Data Source={Path.Combine(data, DatabaseFile)};Pooling=False");
        await connection.OpenAsync();
        // Generation only: no journal, no fsync, a big cache. The app's own pragmas apply when it is read.
        await ExecuteAsync(connection, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-500000; PRAGMA foreign_keys=OFF;");

        // Secondary indexes are dropped while loading and recreated from their own definitions afterwards (much faster).
        var indexes = new List<(string Name, string Sql)>();
        await using (var list = connection.CreateCommand())
        {
            list.CommandText = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL " +
                               "AND tbl_name IN ('Tickets', 'Messages', 'Attachments', 'TicketReads')";
            await using var reader = await list.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                indexes.Add((reader.GetString(0), reader.GetString(1)));
        }
        foreach (var (name, _) in indexes)
            await ExecuteAsync(connection, $"DROP INDEX \"{name}\"");

        var tickets = PlanTickets(addresses.Count, now);
        await InsertTicketsAsync(connection, tickets, addresses);
        await InsertMessagesAsync(connection, tickets, addresses);
        await InsertReadsAsync(connection, tickets);

        foreach (var (_, sql) in indexes)
            await ExecuteAsync(connection, sql);
        await ExecuteAsync(connection, "PRAGMA journal_mode=WAL;"); // as the app leaves it
        await connection.CloseAsync();

        // The Guid and date formats must be what EF writes, or the app's queries would find nothing.
        using (var host = BenchHost.Build(data))
        {
            await using var scope = host.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var firstBot = addresses[0].BotId;
            var ofFirstBot = await db.Tickets.CountAsync(t => t.BotId == firstBot);
            var fifty = await db.Messages.CountAsync(m => m.TicketId == FiftyMessageTicketId);
            var messages = await db.Messages.CountAsync();
            if (ofFirstBot == 0 || fifty != 50 || messages != MessageCount)
                throw new InvalidOperationException($"Dataset check failed: {ofFirstBot} tickets of the first bot, {fifty} messages on #{FiftyMessageTicketId}, {messages} messages");
        }
        SqliteConnection.ClearAllPools();
    }

    private static async Task<List<(Guid Id, string Email, Guid? BotId)>> AddAddressesAndBotsAsync(AppDbContext db, DateTimeOffset now)
    {
        string[] domains = ["acme.example", "globex.example", "initech.example", "umbrella.example"];
        string[] locals = ["support", "billing", "sales", "returns", "orders"];
        foreach (var domain in domains)
            db.Domains.Add(new MailDomain { Name = domain, VerificationToken = domain.Replace(".", ""), Status = DomainStatus.Verified });
        var result = new List<(Guid, string, Guid?)>();
        for (var i = 0; i < 20; i++)
        {
            var email = $"{locals[i % locals.Length]}@{domains[i / locals.Length]}";
            var address = new CorporateAddress
            {
                Email = email, NormalizedEmail = email, Domain = domains[i / locals.Length],
                TechnicalAddress = $"{email.Replace('@', '-')}-x{i}@inbound.test", Forwarding = ForwardingStatus.Confirmed,
                CreatedAt = now.AddDays(-800),
            };
            db.Addresses.Add(address);
            Guid? botId = null;
            if (i < 16) // the last four addresses have no bot: their tickets stay out of the inbox
            {
                var bot = new Bot { Name = $"Bot {i + 1}", EmailAddressId = address.Id };
                db.Bots.Add(bot);
                botId = bot.Id;
            }
            result.Add((address.Id, email, botId));
        }
        await db.SaveChangesAsync();
        return result;
    }

    private sealed record PlannedTicket(long Id, int Address, int Customer, string Subject, string Status, string? Assignee,
        long CreatedTicks, long LastTicks, int Messages);

    private static PlannedTicket[] PlanTickets(int addressCount, DateTimeOffset now)
    {
        var random = new Random(20261127);
        var counts = PlanMessageCounts(random);
        var start = now.AddDays(-730).UtcTicks;
        var span = now.UtcTicks - start;
        // Busy addresses get most of the mail.
        var weights = Enumerable.Range(0, addressCount).Select(k => 1.0 / (k + 1)).ToArray();
        var tickets = new PlannedTicket[TicketCount];
        for (var i = 0; i < TicketCount; i++)
        {
            long id = i + 1;
            var n = counts[i];
            var created = start + span / TicketCount * i + random.NextInt64(TimeSpan.TicksPerHour);
            if (id == FiftyMessageTicketId)
                created = now.AddDays(-7).UtcTicks;
            var duration = n == 1 ? 0 : (long)(n * TimeSpan.TicksPerMinute * (10 + random.NextDouble() * 600));
            var last = Math.Min(created + duration, now.UtcTicks - TimeSpan.TicksPerMinute);
            var recent = now.UtcTicks - last < TimeSpan.FromDays(14).Ticks;
            var roll = random.NextDouble();
            var status = recent
                ? roll < 0.5 ? "Open" : roll < 0.75 ? "Pending" : "Resolved"
                : roll < 0.04 ? "Open" : roll < 0.06 ? "Pending" : "Resolved";
            var template = SubjectTemplates[random.Next(SubjectTemplates.Length)];
            var subject = string.Format(CultureInfo.InvariantCulture, template, 100_000 + random.Next(900_000),
                2024 + random.Next(3), Products[random.Next(Products.Length)]);
            tickets[i] = new PlannedTicket(id, Pick(random, weights), random.Next(30_000), subject, status,
                random.NextDouble() < 0.7 ? $"op-{1 + random.Next(8)}" : null, created, last, n);
        }
        return tickets;
    }

    /// <summary>1 to 49 messages per ticket (mostly short threads), adjusted to exactly 1,000,000, and one of 50.</summary>
    private static int[] PlanMessageCounts(Random random)
    {
        var counts = new int[TicketCount];
        for (var i = 0; i < TicketCount; i++)
            counts[i] = 1 + (int)Math.Min(48, -Math.Log(1 - random.NextDouble()) * 9.5);
        var fifty = (int)FiftyMessageTicketId - 1;
        counts[fifty] = 50;
        var difference = MessageCount - counts.Sum();
        while (difference != 0)
        {
            var i = random.Next(TicketCount);
            if (i == fifty)
                continue;
            var step = Math.Sign(difference);
            if (counts[i] + step is < 1 or > 49)
                continue;
            counts[i] += step;
            difference -= step;
        }
        return counts;
    }

    private static int Pick(Random random, double[] weights)
    {
        var roll = random.NextDouble() * weights.Sum();
        for (var k = 0; k < weights.Length; k++)
        {
            roll -= weights[k];
            if (roll <= 0)
                return k;
        }
        return weights.Length - 1;
    }

    private static string CustomerEmail(int customer) =>
        $"{FirstNames[customer % FirstNames.Length].ToLowerInvariant()}.{LastNames[customer / FirstNames.Length % LastNames.Length].ToLowerInvariant()}{customer}@{MailDomains[customer % MailDomains.Length]}";

    private static string? CustomerName(int customer) =>
        customer % 5 == 0 ? null : $"{FirstNames[customer % FirstNames.Length]} {LastNames[customer / FirstNames.Length % LastNames.Length]}";

    private static async Task InsertTicketsAsync(SqliteConnection connection, PlannedTicket[] tickets, List<(Guid Id, string Email, Guid? BotId)> addresses)
    {
        await using var loader = new BulkLoader(connection);
        var insert = loader.Into("Tickets",
            ["Id", "Subject", "SubjectKey", "Status", "AddressId", "BotId", "CustomerEmail", "CustomerName", "AssigneeId",
             "ThreadToken", "CreatedAt", "LastMessageAt", "MessageCount"]);
        foreach (var t in tickets)
        {
            var address = addresses[t.Address];
            await insert([t.Id, t.Subject, t.Subject.ToLowerInvariant(), t.Status, GuidText(address.Id),
                address.BotId is { } bot ? GuidText(bot) : null, CustomerEmail(t.Customer), CustomerName(t.Customer), t.Assignee,
                Hash(t.Id, 0).ToString("x16") + Hash(t.Id, 1).ToString("x16"), t.CreatedTicks, t.LastTicks, t.Messages]);
        }
        await loader.CommitAsync();
    }

    private static async Task InsertMessagesAsync(SqliteConnection connection, PlannedTicket[] tickets, List<(Guid Id, string Email, Guid? BotId)> addresses)
    {
        // Ids follow arrival time across tickets, as in a real database: one ticket's messages lie on many pages.
        var slots = new (long Ticks, int Ticket, int Index)[MessageCount];
        var s = 0;
        for (var i = 0; i < tickets.Length; i++)
        {
            var t = tickets[i];
            for (var j = 0; j < t.Messages; j++)
                slots[s++] = (t.Messages == 1 ? t.CreatedTicks : t.CreatedTicks + (t.LastTicks - t.CreatedTicks) * j / (t.Messages - 1), i, j);
        }
        Array.Sort(slots);

        var texts = Enumerable.Range(0, 4096).Select(k => Body(k, 2 + (int)(Hash(k, 7) % 10), " ")).ToArray();
        var htmls = Enumerable.Range(0, 1024).Select(k => "<div><p>" + Body(k, 3 + (int)(Hash(k, 9) % 8), "</p><p>") + "</p></div>").ToArray();
        await using var loader = new BulkLoader(connection);
        var messages = loader.Into("Messages",
            ["Id", "TicketId", "AddressId", "Direction", "MessageIdHeader", "DedupKey", "FromAddress", "FromName", "To", "Cc",
             "Subject", "InReplyTo", "References", "Date", "ReceivedAt", "Text", "Html", "HasRemoteImages", "Flags", "ParseError",
             "RawSize", "Delivery", "DeliveryDetail", "AuthorUserId"]);
        var attachments = loader.Into("Attachments",
            ["MessageId", "FileName", "ContentType", "Size", "Sha256", "ContentId", "IsInline"]);
        long id = 0;
        foreach (var (ticks, ticketIndex, j) in slots)
        {
            id++;
            var t = tickets[ticketIndex];
            var h = Hash(t.Id, j);
            var address = addresses[t.Address];
            var customer = CustomerEmail(t.Customer);
            var direction = j % 2 == 0 ? "Inbound" : h % 10 == 0 ? "Note" : "Outbound";
            var inbound = direction == "Inbound";
            var messageId = MessageIdOf(t.Id, j, inbound ? customer : address.Email);
            var text = texts[h % (ulong)texts.Length];
            var html = inbound && h % 10 < 3 ? htmls[(h >> 8) % (ulong)htmls.Length] : null;
            await messages([id, t.Id, GuidText(address.Id), direction, messageId, messageId,
                inbound ? customer : address.Email, inbound ? CustomerName(t.Customer) : "Support", inbound ? address.Email : customer, null,
                j == 0 ? t.Subject : "Re: " + t.Subject,
                j == 0 ? null : MessageIdOf(t.Id, j - 1, (j - 1) % 2 == 0 ? customer : address.Email),
                j == 0 ? null : string.Join(' ', Enumerable.Range(Math.Max(0, j - 3), Math.Min(j, 3)).Select(k => "<" + MessageIdOf(t.Id, k, k % 2 == 0 ? customer : address.Email) + ">")),
                inbound ? ticks - (long)(h % 600) * TimeSpan.TicksPerSecond : ticks, ticks, text, html,
                html is not null && h % 97 == 0, inbound && h % 100 == 0 ? 1 : 0, null,
                text.Length + (html?.Length ?? 0) + 1500,
                direction == "Outbound" ? "Sent" : null, direction == "Outbound" ? "250 2.0.0 OK" : null,
                inbound ? null : t.Assignee ?? OperatorId]);
            if (inbound && h % 25 == 1) // about 2% of all messages carry a file
                await attachments([id, h % 2 == 0 ? "photo.jpg" : $"invoice-{t.Id}.pdf", h % 2 == 0 ? "image/jpeg" : "application/pdf",
                    20_000 + (long)(h % 2_000_000), Hash(id, 11).ToString("x16") + Hash(id, 12).ToString("x16") + Hash(id, 13).ToString("x16") + Hash(id, 14).ToString("x16"),
                    null, false]);
        }
        await loader.CommitAsync();
    }

    private static async Task InsertReadsAsync(SqliteConnection connection, PlannedTicket[] tickets)
    {
        await using var loader = new BulkLoader(connection);
        var reads = loader.Into("TicketReads", "UserId", "TicketId", "SeenAt");
        foreach (var t in tickets)
        {
            var h = Hash(t.Id, 99);
            if (h % 3 == 0) // seen; a quarter of those had activity since
                await reads([OperatorId, t.Id, h % 4 == 0 ? t.LastTicks - TimeSpan.TicksPerHour : t.LastTicks]);
        }
        await loader.CommitAsync();
    }

    private static string MessageIdOf(long ticket, int index, string sender) =>
        $"{ticket:x}.{index}.{Hash(ticket, index + 1000) & 0xffffffff:x8}@{sender[(sender.IndexOf('@') + 1)..]}";

    private static string Body(int seed, int sentences, string separator) =>
        string.Join(separator, Enumerable.Range(0, sentences).Select(k => Sentences[Hash(seed, k + 50) % (ulong)Sentences.Length]));

    /// <summary>EF Core's SQLite text form of a Guid (upper case).</summary>
    private static string GuidText(Guid id) => id.ToString().ToUpperInvariant();

    /// <summary>SplitMix64 of two numbers: cheap, repeatable pseudo-randomness per row.</summary>
    private static ulong Hash(long a, long b)
    {
        var x = (ulong)a * 0x9E3779B97F4A7C15UL + (ulong)b;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// Prepared INSERTs (one per table, reused for every row) sharing one transaction that is committed every
    /// 50,000 rows.
    /// </summary>
    private sealed class BulkLoader(SqliteConnection connection) : IAsyncDisposable
    {
        private const int RowsPerTransaction = 50_000;
        private readonly List<SqliteCommand> _commands = [];
        private SqliteTransaction _transaction = connection.BeginTransaction();
        private int _rows;

        /// <summary>An inserter taking the values of <paramref name="columns"/> in order.</summary>
        public Func<object?[], Task> Into(string table, params string[] columns)
        {
            var command = connection.CreateCommand();
            command.CommandText = $"INSERT INTO \"{table}\" ({string.Join(", ", columns.Select(c => $"\"{c}\""))}) " +
                                  $"VALUES ({string.Join(", ", columns.Select((_, i) => "$p" + i))})";
            for (var i = 0; i < columns.Length; i++)
                command.Parameters.Add(new SqliteParameter("$p" + i, null));
            command.Transaction = _transaction;
            command.Prepare();
            _commands.Add(command);
            return values => RowAsync(command, values);
        }

        private async Task RowAsync(SqliteCommand command, object?[] values)
        {
            for (var i = 0; i < values.Length; i++)
                command.Parameters[i].Value = values[i] ?? DBNull.Value;
            await command.ExecuteNonQueryAsync();
            if (++_rows % RowsPerTransaction != 0)
                return;
            await _transaction.CommitAsync();
            await _transaction.DisposeAsync();
            _transaction = connection.BeginTransaction();
            foreach (var each in _commands)
                each.Transaction = _transaction;
        }

        public Task CommitAsync() => _transaction.CommitAsync();

        public async ValueTask DisposeAsync()
        {
            foreach (var command in _commands)
                await command.DisposeAsync();
            await _transaction.DisposeAsync();
        }
    }
}
