using System.Diagnostics;

namespace ConnectiveOne.Benchmarks;

/// <summary>
/// Percentiles of a set of timings in milliseconds (nearest rank), and when measured here the process's CPU time per
/// call: on a machine shared with other work the wall-clock tail includes waiting for a core, the CPU time does not.
/// </summary>
internal sealed record Stats(int Count, double P50, double P95, double P99, double Max, double? CpuPerCall = null)
{
    public static Stats Of(IReadOnlyCollection<double> values)
    {
        var sorted = values.Order().ToArray();
        double At(double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
        return new Stats(sorted.Length, At(0.50), At(0.95), At(0.99), sorted[^1]);
    }

    /// <summary>Runs <paramref name="action"/> <paramref name="warmup"/> times untimed, then <paramref name="rounds"/> times timed.</summary>
    public static async Task<Stats> MeasureAsync(int warmup, int rounds, Func<Task> action)
    {
        for (var i = 0; i < warmup; i++)
            await action();
        var timings = new double[rounds];
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        for (var i = 0; i < rounds; i++)
        {
            var sw = Stopwatch.StartNew();
            await action();
            timings[i] = sw.Elapsed.TotalMilliseconds;
        }
        return Of(timings) with { CpuPerCall = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds / rounds };
    }

    public override string ToString() => $"p50 {P50,7:0.00} ms   p95 {P95,7:0.00} ms   p99 {P99,7:0.00} ms   max {Max,7:0.00} ms   (n={Count})" +
                                         (CpuPerCall is { } cpu ? $"   CPU {cpu,6:0.00} ms/call" : "");
}
