using System.Threading.RateLimiting;

namespace ConnectiveOne.Console.Features.Setup;

/// <summary>
/// Test emails go to any address an admin types, from our relay and domain: without a limit, one admin account (or a
/// stolen admin token) could send mail in bulk and spoil the domain's reputation with the relay. Each user may send
/// <see cref="PerWindow"/> test or forwarding-test mails per <see cref="Window"/>, whether from the setup page or the API.
/// </summary>
internal sealed class TestMailThrottle : IDisposable
{
    public const int PerWindow = 10;
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(10);
    public static readonly string TooMany = $"You sent {PerWindow} test emails in the last {Window.TotalMinutes:0} minutes: wait a few minutes before the next one.";

    private readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.Create<string, string>(user =>
        RateLimitPartition.GetFixedWindowLimiter(user, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = PerWindow,
            Window = Window,
            QueueLimit = 0,
        }));

    /// <summary>True when <paramref name="userId"/> may send one more test mail now (and counts it).</summary>
    public bool TryTake(string? userId)
    {
        using var lease = _limiter.AttemptAcquire(userId ?? "");
        return lease.IsAcquired;
    }

    public void Dispose() => _limiter.Dispose();
}

internal static class TestMailThrottleRegistration
{
    public static IServiceCollection AddTestMailThrottle(this IServiceCollection services) => services.AddSingleton<TestMailThrottle>();
}
