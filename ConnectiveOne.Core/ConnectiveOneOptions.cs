using System.ComponentModel.DataAnnotations;

namespace ConnectiveOne.Core;

/// <summary>The <c>ConnectiveOne</c> configuration section (API.md lists every key).</summary>
public sealed class ConnectiveOneOptions
{
    public const string Section = "ConnectiveOne";

    /// <summary>Folder for attachments and logs, and on SQLite the database file and the Data Protection keys.</summary>
    [Required]
    public string DataDirectory { get; set; } = "./data";

    /// <summary>Base URL used in links and mail; empty means the first URL the app listens on.</summary>
    public string? PublicUrl { get; set; }

    /// <summary>Domain of the technical addresses that receive redirected mail.</summary>
    public string InboundDomain { get; set; } = "inbound.localhost";

    public global::ConnectiveOne.Core.Persistence.DatabaseOptions Database { get; set; } = new();
    public SmtpListenerOptions Smtp { get; set; } = new();
    public OutboundOptions Outbound { get; set; } = new();
    public global::ConnectiveOne.Core.Dns.DnsOptions Dns { get; set; } = new();
    public BootstrapOptions Bootstrap { get; set; } = new();
    public InboundOptions Inbound { get; set; } = new();
    public TicketOptions Tickets { get; set; } = new();

    /// <summary>
    /// Sign-in attempts (the sign-in form and <c>POST /api/v1/tokens</c>) one client address may make per minute;
    /// further ones get 429. The per account and address back-off applies on top of this.
    /// </summary>
    [Range(1, 100_000)]
    public int SignInAttemptsPerMinute { get; set; } = 20;

    /// <summary>
    /// Wrong passwords one email address may get from one client address before that pair waits
    /// <see cref="SignInLockout"/>; each further wrong password doubles the wait (up to a day).
    /// </summary>
    [Range(1, 1000)]
    public int SignInFailuresBeforeLockout { get; set; } = 5;

    /// <summary>The first wait of an email and client address pair after too many wrong passwords.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan SignInLockout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a database command waits for a lock held by another connection or process before it fails (and
    /// inbound mail gets 451/503, to be sent again later).
    /// </summary>
    [Range(1, 3600)]
    public int DatabaseTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// StackExchange.Redis configuration string (e.g. <c>redis1:6379,password=…</c>) shared by every node; empty runs
    /// alone, in-process. With it, live events, presence and the SignalR hub reach the pages of every node.
    /// </summary>
    public string? Redis { get; set; }

    /// <summary>This node's name in logs and work leases; empty means <c>&lt;machine name&gt;-&lt;process id&gt;</c>.</summary>
    public string? NodeName { get; set; }

    /// <summary>
    /// How long a node holds background work it claimed (outbox mail, DNS re-checks) before another node may take it
    /// over: how soon a dead node's work continues elsewhere. Must be well above one delivery (a few
    /// <see cref="OutboundOptions.Timeout"/>s).
    /// </summary>
    public TimeSpan WorkLease { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The data folder as an absolute path.</summary>
    public string DataPath => Path.GetFullPath(DataDirectory);
}

public sealed class SmtpListenerOptions
{
    /// <summary><c>host:port</c> of the inbound SMTP endpoint, or <c>off</c>.</summary>
    public string Listen { get; set; } = "127.0.0.1:2525";

    /// <summary>Larger messages get 552; also the limit of the inbound webhooks (413). At most 2 GB (SmtpServer counts in int).</summary>
    [Range(1024, int.MaxValue)]
    public long MaxMessageBytes { get; set; } = 26_214_400;

    /// <summary>RCPT TO beyond this many in one transaction gets 452.</summary>
    [Range(1, 10_000)]
    public int MaxRecipients { get; set; } = 100;

    /// <summary>Connections served at once; further ones get 421 (try again later) at once.</summary>
    [Range(1, 10_000)]
    public int MaxSessions { get; set; } = 64;

    /// <summary>Connections served at once from one client address (421 beyond), so one address cannot take every slot.</summary>
    [Range(1, 10_000)]
    public int MaxSessionsPerAddress { get; set; } = 32;

    /// <summary>
    /// Connections served at once from one client network (/24 for IPv4, /64 for IPv6; 421 beyond), so a few
    /// neighbouring addresses cannot take every slot either: below <see cref="MaxSessions"/>, the rest stay for others.
    /// </summary>
    [Range(1, 10_000)]
    public int MaxSessionsPerNetwork { get; set; } = 48;

    /// <summary>
    /// Message bytes all sessions together may hold in memory while messages arrive and are stored; a session whose
    /// message passes 256 KB reserves <see cref="MaxMessageBytes"/> of it and otherwise waits (its sender is slowed, not
    /// refused). Null means 4 × <see cref="MaxMessageBytes"/>.
    /// </summary>
    [Range(1024, long.MaxValue)]
    public long? MaxBufferedBytes { get; set; }

    /// <summary>The cap in force: <see cref="MaxBufferedBytes"/> or its default, and never below one whole message.</summary>
    public long BufferedBytesLimit => Math.Max(MaxBufferedBytes ?? 4 * MaxMessageBytes, MaxMessageBytes);

    /// <summary>How long the server waits for the client (the next command, or more of a message in DATA) before closing with 421.</summary>
    [Range(1, 3600)]
    public int CommandTimeoutSeconds { get; set; } = 120;

    /// <summary>
    /// Free space the data folder's disk must keep: below it MAIL FROM gets 452 4.3.1 and the webhooks 507, before
    /// any message data is taken. Null means 100 MB plus <see cref="MaxMessageBytes"/>.
    /// </summary>
    [Range(0, long.MaxValue)]
    public long? MinFreeDiskBytes { get; set; }

    /// <summary>The floor in force: <see cref="MinFreeDiskBytes"/> or its default.</summary>
    public long FreeDiskFloor => MinFreeDiskBytes ?? 100L * 1024 * 1024 + MaxMessageBytes;
}

public sealed class OutboundOptions
{
    public string? Host { get; set; }
    public int Port { get; set; } = 587;

    /// <summary><c>None</c>, <c>StartTls</c>, <c>SslOnConnect</c> or <c>Auto</c> (MailKit's SecureSocketOptions).</summary>
    public string Security { get; set; } = "Auto";
    public string? Username { get; set; }

    /// <summary>Only ever read from configuration; never stored in the database or logged.</summary>
    public string? Password { get; set; }
    public string SpfInclude { get; set; } = "mailgun.org";

    /// <summary>
    /// Waits between attempts after a temporary failure (4xx or network), comma-separated TimeSpans; the last
    /// one repeats until <see cref="GiveUpAfter"/>.
    /// </summary>
    public string RetryDelays { get; set; } = "00:01:00,00:05:00,00:15:00,01:00:00";

    /// <summary>How long a reply keeps being retried before it is marked Failed.</summary>
    public TimeSpan GiveUpAfter { get; set; } = TimeSpan.FromHours(48);

    /// <summary>Connect and command timeout towards the relay.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How often the outbox looks for due mail even without being woken.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(30);
}

public sealed class BootstrapOptions
{
    public string? AdminEmail { get; set; }
    public string? AdminPassword { get; set; }
    public string? ApiToken { get; set; }
}

public sealed class TicketOptions
{
    public const int DefaultMaxMessagesPerTicket = 1000;

    /// <summary>
    /// Inbound messages one ticket takes at most; further mail that threads into it starts a new ticket that continues
    /// it (<see cref="Tickets.Ticket.ContinuesTicketId"/>). Bounds what one sender can pile into one conversation.
    /// </summary>
    public int MaxMessagesPerTicket { get; set; } = DefaultMaxMessagesPerTicket;

    /// <summary>
    /// The longest the snooze worker sleeps before it looks for due snoozes again (it also wakes at the next snooze's time
    /// and whenever a ticket changes); bounds how late a snooze set on another node without Redis ends.
    /// </summary>
    public TimeSpan SnoozeCheckInterval { get; set; } = TimeSpan.FromMinutes(1);
}

public sealed class InboundOptions
{
    public string? WebhookToken { get; set; }
    public string? MailgunSigningKey { get; set; }

    /// <summary>How long MIME parsing of one message may take before it is stored as unparsed.</summary>
    [Range(1, 600)]
    public int ParseTimeoutSeconds { get; set; } = 30;
}
