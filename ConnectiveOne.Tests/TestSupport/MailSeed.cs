using System.Net.Http.Json;
using System.Text.Json;
using ConnectiveOne.Core.Addresses;
using ConnectiveOne.Core.Dns;
using ConnectiveOne.Core.Events;
using ConnectiveOne.Core.Outbound;
using ConnectiveOne.Core.Persistence;
using ConnectiveOne.Core.Threading;
using ConnectiveOne.Core.Tickets;
using ConnectiveOne.Tests.Dns;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Tests.TestSupport;

/// <summary>
/// Rows written straight into the app's database (domains with a k1 key, addresses, tickets with a customer message),
/// the way the address and intake features would leave them.
/// </summary>
public static class MailSeed
{
    public const string InboundDomain = "inbound.test";

    public static async Task<CorporateAddress> AddressAsync(TestApp app, string email, DomainStatus domainStatus,
        ForwardingStatus forwarding = ForwardingStatus.Waiting)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var domain = email[(email.IndexOf('@') + 1)..].ToLowerInvariant();
        if (await db.Domains.FindAsync(domain) is null)
        {
            var protector = scope.ServiceProvider.GetRequiredService<IDataProtectionProvider>()
                .CreateProtector(OutboundComposer.DkimProtectorPurpose);
            db.Domains.Add(new MailDomain
            {
                Name = domain,
                VerificationToken = "tok3n-" + Guid.NewGuid().ToString("N")[..8],
                Status = domainStatus,
                DkimKeys =
                [
                    new DkimKey
                    {
                        DomainName = domain,
                        Selector = TestKeys.K1.Selector,
                        PublicKey = TestKeys.K1.PublicKeyBase64,
                        ProtectedPrivateKey = protector.Protect(TestKeys.K1.PrivateKeyPem),
                        Active = true,
                    },
                ],
            });
        }
        var local = email[..email.IndexOf('@')];
        var address = new CorporateAddress
        {
            Email = email,
            NormalizedEmail = email.ToLowerInvariant(),
            Domain = domain,
            TechnicalAddress = $"{local}-{domain.Replace('.', '-')}-{Guid.NewGuid().ToString("N")[..6]}@{InboundDomain}",
            Forwarding = forwarding,
        };
        db.Addresses.Add(address);
        await db.SaveChangesAsync();
        return address;
    }

    /// <summary>
    /// A verified address served by a new bot "Support" (created and bound through the API, as an admin would), so its
    /// mail shows in the inbox. Returns the technical address to send to.
    /// </summary>
    public static async Task<string> AddressServedByBotAsync(TestApp app, string email = "support@acme.test")
    {
        var address = await AddressAsync(app, email, DomainStatus.Verified);
        var api = app.CreateApiClient();
        var bot = await (await api.PostAsJsonAsync("/api/v1/bots", new { name = "Support" })).Content.ReadFromJsonAsync<JsonElement>();
        (await api.PutAsJsonAsync($"/api/v1/bots/{bot.GetProperty("id").GetString()}/email", new { addressId = address.Id }))
            .EnsureSuccessStatusCode();
        return address.TechnicalAddress;
    }

    /// <summary>A ticket of the address (no bot unless given) with one customer message.</summary>
    public static async Task<(Ticket Ticket, TicketMessage Customer)> TicketAsync(TestApp app, CorporateAddress address,
        string subject = "Printer on fire", Guid? botId = null, string? references = null)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var now = DateTimeOffset.UtcNow;
        var customerId = $"{Guid.NewGuid():N}@customer.example";
        var ticket = new Ticket
        {
            Subject = subject,
            SubjectKey = SubjectNormalizer.Normalize(subject).MatchKey,
            AddressId = address.Id,
            BotId = botId,
            CustomerEmail = "carol@customer.example",
            CustomerName = "Carol Customer",
            ThreadToken = MessageIdFormat.NewThreadToken(),
            CreatedAt = now,
            LastMessageAt = now,
            MessageCount = 1,
        };
        var customer = new TicketMessage
        {
            Ticket = ticket,
            AddressId = address.Id,
            Direction = MessageDirection.Inbound,
            MessageIdHeader = customerId,
            DedupKey = customerId,
            FromAddress = "carol@customer.example",
            FromName = "Carol Customer",
            To = address.Email,
            Subject = subject,
            References = references,
            ReceivedAt = now,
            Text = "Help, please.",
        };
        db.Messages.Add(customer);
        await db.SaveChangesAsync();
        return (ticket, customer);
    }

    /// <summary>Polls the database until the condition holds (the worker runs in the background), or gives up after 30 s.</summary>
    public static async Task<T> WaitForAsync<T>(TestApp app, Func<AppDbContext, Task<T?>> read, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            await using (var scope = app.Services.CreateAsyncScope())
            {
                var value = await read(scope.ServiceProvider.GetRequiredService<AppDbContext>());
                if (value is not null && done(value))
                    return value;
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException($"Condition not reached; last value: {value}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// An operator's reply through the app's <see cref="ReplyService"/>, on a context of its own with
    /// <paramref name="interceptors"/> (to hold it at a chosen step while something else happens).
    /// </summary>
    public static async Task<ReplyResult> ReplyWithAsync(TestApp app, long ticketId, string text, IReadOnlyList<ReplyAttachment> files,
        params IInterceptor[] interceptors)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;
        await using var db = new AppDbContext(app.Database.Configure(new DbContextOptionsBuilder<AppDbContext>()).AddInterceptors(interceptors).Options);
        var replies = new ReplyService(db, services.GetRequiredService<OutboundComposer>(), services.GetRequiredService<RelayClient>(),
            services.GetRequiredService<OutboxSignal>(), services.GetRequiredService<ChangeNotifier>(), TimeProvider.System);
        return await replies.QueueReplyAsync(ticketId, text, files, null);
    }

    public static Task<OutboundMail> WaitForOutboxAsync(TestApp app, Func<OutboundMail, bool> done, Func<OutboundMail, bool>? which = null) =>
        WaitForAsync(app, async db => (await db.Outbox.AsNoTracking().ToListAsync()).FirstOrDefault(which ?? (_ => true)), done);
}
