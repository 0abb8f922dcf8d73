using ConnectiveOne.Core.Tickets;

namespace ConnectiveOne.Console.Features.Inbox;

/// <summary>
/// The operator's time zone in this circuit. The app keeps none per user, so the inbox asks the browser once it runs there
/// (<c>Intl.DateTimeFormat().resolvedOptions().timeZone</c>, app.js <c>timeZone</c>); until then, and when the browser
/// names a zone this server does not know, it is UTC. Snooze presets and wake times are computed and shown in it.
/// </summary>
public sealed class OperatorTimeZone
{
    public TimeZoneInfo Zone { get; private set; } = TimeZoneInfo.Utc;

    /// <summary>Whether the browser has told the zone yet.</summary>
    public bool Known { get; private set; }

    /// <summary>Raised when the browser told a zone, so components showing times render again.</summary>
    public event Action? Changed;

    public void Set(string? ianaId)
    {
        Zone = SnoozePresets.Zone(ianaId);
        Known = true;
        Changed?.Invoke();
    }

    /// <summary>"UTC" or the zone's id ("Europe/Berlin"), for a time's label.</summary>
    public string Name => Zone == TimeZoneInfo.Utc ? "UTC" : Zone.Id;
}
