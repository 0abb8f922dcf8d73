using Microsoft.Extensions.Options;

namespace ConnectiveOne.Core.Nodes;

/// <summary>Who this process is among the nodes: its name for people and a lease owner no other process shares.</summary>
public sealed class NodeIdentity
{
    public NodeIdentity(IOptions<ConnectiveOneOptions> options)
    {
        var configured = options.Value.NodeName?.Trim();
        Name = string.IsNullOrEmpty(configured)
            ? $"{Environment.MachineName}-{Environment.ProcessId}"
            : configured[..Math.Min(150, configured.Length)];
        Instance = $"{Name}/{Guid.NewGuid().ToString("N")[..8]}";
    }

    /// <summary><c>ConnectiveOne:NodeName</c>, or <c>&lt;machine name&gt;-&lt;process id&gt;</c>.</summary>
    public string Name { get; }

    /// <summary>
    /// The name plus a random part, written into claimed rows and carried by bus messages: two processes given the
    /// same name by mistake (or two hosts in one test process) still never take each other's work or echoes for theirs.
    /// </summary>
    public string Instance { get; }
}
