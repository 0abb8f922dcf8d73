using ConnectiveOne.Core.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectiveOne.Core.Tickets;

/// <summary>When an operator last saw a ticket; newer activity makes it unread for them.</summary>
public sealed class TicketRead
{
    public required string UserId { get; set; }
    public long TicketId { get; set; }
    public DateTimeOffset SeenAt { get; set; }
}

internal sealed class TicketReadConfiguration : IEntityTypeConfiguration<TicketRead>
{
    public void Configure(EntityTypeBuilder<TicketRead> read)
    {
        read.HasKey(r => new { r.UserId, r.TicketId });
        read.HasOne<Ticket>().WithMany().HasForeignKey(r => r.TicketId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>Unread marks per operator: a ticket is unread when it had activity after the operator last opened it.</summary>
public sealed class TicketReads(AppDbContext db, TimeProvider clock)
{
    public async Task MarkSeenAsync(string userId, long ticketId, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        var updated = await db.TicketReads.Where(r => r.UserId == userId && r.TicketId == ticketId)
            .ExecuteUpdateAsync(r => r.SetProperty(x => x.SeenAt, now), ct);
        if (updated > 0)
            return;
        db.TicketReads.Add(new TicketRead { UserId = userId, TicketId = ticketId, SeenAt = now });
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Another page of the same user marked it at the same moment: seen either way.
            db.ChangeTracker.Clear();
        }
    }

    /// <summary>Which of these tickets (with their last activity) the user has not seen since.</summary>
    public async Task<IReadOnlySet<long>> UnreadAsync(string userId, IReadOnlyCollection<TicketSummary> tickets, CancellationToken ct = default)
    {
        var ids = tickets.Select(t => t.Id).ToList();
        var seen = await db.TicketReads.AsNoTracking().Where(r => r.UserId == userId && ids.Contains(r.TicketId))
            .ToDictionaryAsync(r => r.TicketId, r => r.SeenAt, ct);
        return tickets.Where(t => !seen.TryGetValue(t.Id, out var at) || t.LastMessageAt > at).Select(t => t.Id).ToHashSet();
    }
}
