using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Outbound;
using ConnectiveOne.Core.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;

namespace ConnectiveOne.Core.Notifications;

/// <summary>
/// Queues the email of each notification marked <see cref="Notification.EmailPending"/> in the outbox, to the user's own
/// address, From the ticket's address (as the helpdesk's replies are), marked automatic so that no auto-responder
/// answers it and, should it come back in, intake sees a loop. Clearing the flag and queueing the mail are one transaction
/// and the flag is cleared only where still set, so each notification is mailed once, also with several nodes. Woken by
/// <see cref="ChangeKind.NotificationsChanged"/>, and it looks again every minute for what an earlier run left.
/// </summary>
internal sealed class NotificationMailer(IServiceScopeFactory scopes, ChangeNotifier notifier, OutboxSignal outbox,
    IOptions<ConnectiveOneOptions> options, TimeProvider clock, ILogger<NotificationMailer> logger) : BackgroundService
{
    private const int BatchSize = 50;
    private readonly SemaphoreSlim _wake = new(0, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var subscription = notifier.Subscribe(change =>
        {
            if (change.Kind == ChangeKind.NotificationsChanged && _wake.CurrentCount == 0)
                try { _wake.Release(); } catch (SemaphoreFullException) { /* already woken */ }
        });
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                while (await MailSomeAsync(stoppingToken) == BatchSize) { }
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                logger.LogError(e, "Notification emails could not be queued; trying again later");
            }
            try
            {
                await _wake.WaitAsync(TimeSpan.FromMinutes(1), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Queues the emails of up to <see cref="BatchSize"/> pending notifications; returns how many it looked at.</summary>
    internal async Task<int> MailSomeAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var composer = scope.ServiceProvider.GetRequiredService<OutboundComposer>();
        var pending = await db.Notifications.AsNoTracking().Where(n => n.EmailPending).OrderBy(n => n.Id).Take(BatchSize).ToListAsync(ct);
        var queued = 0;
        foreach (var notification in pending)
        {
            if (await MailOneAsync(db, composer, notification, ct))
                queued++;
        }
        if (queued > 0)
            outbox.Wake();
        return pending.Count;
    }

    private async Task<bool> MailOneAsync(AppDbContext db, OutboundComposer composer, Notification notification, CancellationToken ct)
    {
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == notification.UserId, ct);
        var ticket = await db.Tickets.AsNoTracking().FirstOrDefaultAsync(t => t.Id == notification.TicketId, ct);
        var address = ticket is null ? null : await db.Addresses.AsNoTracking().FirstOrDefaultAsync(a => a.Id == ticket.AddressId, ct);
        // Never to an address the loop guards protect (ours): the mail would come straight back in.
        var problem = user is not { IsActive: true, Email: { Length: > 0 } } ? "the user has no address or is deactivated"
            : address is null ? "the ticket's address is gone"
            : await composer.ReplyRecipientProblemAsync(user.Email, ct);

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var claimed = await db.Notifications.Where(n => n.Id == notification.Id && n.EmailPending)
            .ExecuteUpdateAsync(n => n.SetProperty(x => x.EmailPending, false), ct);
        if (claimed == 0)
            return false; // another node took it
        if (problem is not null)
        {
            await transaction.CommitAsync(ct);
            logger.LogWarning("Notification {NotificationId} is not emailed: {Reason}", notification.Id, problem);
            return false;
        }
        var sender = await composer.ResolveSenderAsync(address!, ct);
        var message = composer.Create(sender);
        message.To.Add(new MailboxAddress(user!.Name, user.Email!));
        message.Subject = Cut(notification.Text, 200);
        message.Body = new TextPart("plain") { Text = Body(notification) };
        composer.MarkAutomatic(message);
        var now = clock.GetUtcNow();
        db.Outbox.Add(new OutboundMail
        {
            Kind = OutboundKind.Notification,
            AddressId = address!.Id,
            FromAddress = sender.From.Address,
            ToAddress = user.Email!,
            Subject = message.Subject,
            MessageIdHeader = message.MessageId ?? "",
            DkimSigned = sender.Signed,
            Mime = composer.Finish(message, sender),
            NextAttemptAt = now,
            CreatedByUserId = null,
            CreatedAt = now,
        });
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        logger.LogInformation("Notification {NotificationId} ({Kind}) queued by email for user {UserId}", notification.Id, notification.Kind, notification.UserId);
        return true;
    }

    private string Body(Notification notification)
    {
        var link = options.Value.PublicUrl is { Length: > 0 } url ? $"{url.TrimEnd('/')}/inbox/{notification.TicketId}" : $"ticket #{notification.TicketId} in the inbox";
        return $"""
                {notification.Text}

                Open it: {link}

                You get this email because you chose email notifications of this kind in your ConnectiveOne settings.
                It was sent automatically; answers to it are not read.
                """;
    }

    private static string Cut(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}
