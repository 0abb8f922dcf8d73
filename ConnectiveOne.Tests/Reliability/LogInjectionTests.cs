using System.Text;
using ConnectiveOne.Tests.TestSupport;
using MimeKit;

namespace ConnectiveOne.Tests.Reliability;

/// <summary>
/// Text from inbound mail that reaches the log (here an X-Loop value, logged as the reason a message counts as
/// automatic) has its control characters escaped: it can neither forge a log line nor send terminal escapes.
/// </summary>
public sealed class LogInjectionTests
{
    [Fact]
    public async Task Control_characters_from_an_inbound_header_reach_the_log_file_escaped()
    {
        await using var inbound = new InboundApp();
        var ours = await InboundAddresses.AddAsync(inbound.App.Services, "support@logs.test");
        // The encoded word decodes to a forged log line, ESC [31m (red), BEL, DEL and a bidi override. (CR LF in a header
        // value do not get this far: MimeKit unfolds them away; ControlCharacterEscaperTests covers them.)
        var raw = "From: customer@example.org\r\nTo: support@logs.test\r\nSubject: Out of reach\r\n" +
                  "Message-ID: <log-injection@example.org>\r\n" +
                  "X-Loop: =?utf-8?q?evil_2026-12-07T00:00:00.0000000+00:00_=5BERR=5D_Forged:_forged_line=1B=5B31m_red=07=7F=E2=80=AE?=\r\n" +
                  "\r\nHello.\r\n";
        var message = MimeMessage.Load(new MemoryStream(Encoding.ASCII.GetBytes(raw)));
        Assert.Contains("\u001b", message.Headers["X-Loop"]); // what the app reads really holds the control characters
        await inbound.SendAsync(message, ours.TechnicalAddress);

        var logs = await inbound.App.WaitForLogsAsync(log => log.Contains("is automatic mail") && log.Contains("forged line"));
        var line = logs.Split('\n').FirstOrDefault(l => l.Contains("is automatic mail")) ?? "";
        Assert.Contains(@"X-Loop: evil 2026-12-07T00:00:00.0000000+00:00 [ERR] Forged: forged line\u001b[31m red\u0007\u007f\u202e", line);
        Assert.DoesNotContain(logs.Split('\n'), l => l.StartsWith("2026-12-07T00:00:00", StringComparison.Ordinal));
        Assert.DoesNotContain('\u001b', logs);
        Assert.DoesNotContain('\u0007', logs);
        Assert.DoesNotContain('\u202e', logs);
    }
}
