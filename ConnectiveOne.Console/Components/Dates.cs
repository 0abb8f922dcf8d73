using System.Globalization;

namespace ConnectiveOne.Console.Components;

/// <summary>
/// The app's one way to show a time: relative in lists ("now", "5 min", "14:05", "3 Dec"), absolute on hover and in
/// the thread ("Mon 7 Dec 2026, 14:05"). Local time of the server, as everywhere else on the page.
/// </summary>
public static class Dates
{
    private static readonly CultureInfo Culture = CultureInfo.GetCultureInfo("en-GB");

    /// <summary>The full date and time: the thread's timestamps and every relative time's tooltip.</summary>
    public static string Absolute(DateTimeOffset at) => at.ToLocalTime().ToString("ddd d MMM yyyy, HH:mm", Culture);

    /// <summary>Short and relative to <paramref name="now"/>: minutes for the last hour, the time today, the day this half-year.</summary>
    public static string Relative(DateTimeOffset at, DateTimeOffset now)
    {
        var age = now - at;
        if (age < TimeSpan.FromMinutes(1)) return "now";
        if (age < TimeSpan.FromHours(1)) return $"{(int)age.TotalMinutes} min";
        var local = at.ToLocalTime();
        if (local.Date == now.ToLocalTime().Date) return local.ToString("HH:mm", Culture);
        if (age < TimeSpan.FromDays(180)) return local.ToString("d MMM", Culture);
        return local.ToString("d MMM yyyy", Culture);
    }
}
