using ConnectiveOne.Tests.TestSupport;

namespace ConnectiveOne.Tests.Conversation;

/// <summary>The app as the conversation tests run it: mail in over SMTP, replies out to <paramref name="relay"/> within a second.</summary>
internal static class ConversationApp
{
    public static InboundApp Start(CaptureRelay relay) => new(new Dictionary<string, string?>(relay.Settings)
    {
        ["ConnectiveOne:InboundDomain"] = MailSeed.InboundDomain,
        ["ConnectiveOne:Outbound:PollInterval"] = "00:00:01",
        ["ConnectiveOne:Outbound:Timeout"] = "00:00:10",
    });
}
