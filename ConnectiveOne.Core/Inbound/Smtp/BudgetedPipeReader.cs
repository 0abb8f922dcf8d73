using System.Buffers;
using System.IO.Pipelines;

namespace ConnectiveOne.Core.Inbound.Smtp;

/// <summary>
/// Holds one session's share of the <see cref="MessageBufferBudget"/>. Commands and small messages stay within a free
/// allowance and never touch the budget (the ingest path of ordinary mail is unchanged); once the data this session
/// holds unread outgrows it, the session reserves a whole message before it reads on, and gives the reservation back
/// when what SmtpServer consumed leaves it within the allowance again (the message stored) or the session ends.
/// </summary>
internal sealed class BudgetedPipeReader(PipeReader inner, MessageBufferBudget budget, long allowance, long reservation) : PipeReader
{
    private ReadOnlySequence<byte> _last;
    private long _reserved;

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        var result = await inner.ReadAsync(cancellationToken);
        _last = result.Buffer;
        if (Volatile.Read(ref _reserved) == 0 && result.Buffer.Length > allowance)
        {
            // Not returning the data yet also stops reading from the socket: the sender waits on TCP flow control.
            await budget.ReserveAsync(reservation, cancellationToken);
            Volatile.Write(ref _reserved, reservation);
        }
        return result;
    }

    // SmtpServer reads with ReadAsync only; data taken here is counted by the next ReadAsync.
    public override bool TryRead(out ReadResult result)
    {
        if (!inner.TryRead(out result))
            return false;
        _last = result.Buffer;
        return true;
    }

    public override void AdvanceTo(SequencePosition consumed)
    {
        var left = _last.Slice(consumed).Length;
        inner.AdvanceTo(consumed);
        ReleaseWhenWithin(left);
    }

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        var left = _last.Slice(consumed).Length;
        inner.AdvanceTo(consumed, examined);
        ReleaseWhenWithin(left);
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null)
    {
        inner.Complete(exception);
        Release();
    }

    public override async ValueTask CompleteAsync(Exception? exception = null)
    {
        await inner.CompleteAsync(exception);
        Release();
    }

    /// <summary>Gives back whatever this session holds (when it ends).</summary>
    public void Release()
    {
        var reserved = Interlocked.Exchange(ref _reserved, 0);
        if (reserved > 0)
            budget.Release(reserved);
    }

    private void ReleaseWhenWithin(long left)
    {
        _last = default;
        if (left <= allowance)
            Release();
    }
}
