using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Core.Inbound.Smtp;

/// <summary>
/// Refuses mail before it is taken when the data folder's disk is nearly full (below
/// <c>ConnectiveOne:Smtp:MinFreeDiskBytes</c>): a temporary refusal makes the sender keep the message and retry,
/// whereas accepting DATA and then failing to store it would leave the sender waiting for nothing.
/// </summary>
public sealed class DiskSpaceGuard(IOptions<ConnectiveOneOptions> options, ILogger<DiskSpaceGuard> logger)
{
    private readonly string _dataPath = options.Value.DataPath;
    private readonly long _floor = options.Value.Smtp.FreeDiskFloor;

    /// <summary>Null when there is room; otherwise the reason, in words (free bytes and the floor).</summary>
    public string? Shortage()
    {
        long available;
        try
        {
            Directory.CreateDirectory(_dataPath);
            available = new DriveInfo(_dataPath).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // Not knowing is not a reason to refuse mail; the commit itself still fails safely (451/503).
            logger.LogWarning(ex, "Free space of {DataPath} could not be read", _dataPath);
            return null;
        }
        if (available >= _floor)
            return null;
        logger.LogWarning("Refusing inbound mail: {Available} bytes free under {DataPath}, the floor is {Floor}", available, _dataPath, _floor);
        return $"only {available / (1024 * 1024)} MB free, {_floor / (1024 * 1024)} MB needed";
    }
}
