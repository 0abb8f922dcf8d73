using System.IO.Pipelines;
using SmtpServer.Protocol;

namespace ConnectiveOne.Core.Inbound.Smtp;

/// <summary>
/// Ends a session whose client sends nothing for <paramref name="idleTimeout"/>. SmtpServer times out only the
/// wait for a command; inside DATA it waits for the rest of the message until the 10-minute session timeout, so a
/// client that stops after <c>DATA</c> would hold a session slot that long. Every wait for input is bounded here.
/// Once timed out it stays timed out: SmtpServer swallows the first error inside DATA and reads a command next,
/// which then ends the session with the 421.
/// </summary>
internal sealed class IdleTimeoutPipeReader(PipeReader inner, TimeSpan idleTimeout) : PipeReader
{
    private volatile bool _timedOut;

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfTimedOut();
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        idle.CancelAfter(idleTimeout);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            return await inner.ReadAsync(idle.Token);
        }
        // Also when SmtpServer's own limit (a second later) was cancelled too: on a starved thread pool both timers can
        // run late together, and a client silent for the whole idle limit still gets the idle 421, not SmtpServer's 221.
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested
                                                 || System.Diagnostics.Stopwatch.GetElapsedTime(started) >= idleTimeout)
        {
            _timedOut = true;
            ThrowIfTimedOut();
            throw;
        }
    }

    public override bool TryRead(out ReadResult result)
    {
        ThrowIfTimedOut();
        return inner.TryRead(out result);
    }

    public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

    private void ThrowIfTimedOut()
    {
        if (_timedOut)
            throw new SmtpResponseException(
                new SmtpResponse(SmtpReplyCode.ServiceUnavailable, $"4.4.2 No input for {idleTimeout.TotalSeconds:0} seconds; closing"), quit: true);
    }
}
