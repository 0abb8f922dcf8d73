using ConnectiveOne.Core.Inbound;
using MimeKit;

namespace ConnectiveOne.Tests.Inbound;

[Trait("Database", "Unused")] // touches no database: runs in the SQLite pass only
public class ForwardedAsDetectorTests
{
    private const string Corporate = "support@acme.example";

    private static MimeMessage Message(string from, string subject, string text, MimeMessage? attached = null)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(from));
        message.To.Add(MailboxAddress.Parse("support-x7@inbound.example.com"));
        message.Subject = subject;
        var builder = new BodyBuilder { TextBody = text };
        if (attached is not null)
            builder.Attachments.Add(new MessagePart { Message = attached });
        message.Body = builder.ToMessageBody();
        return message;
    }

    public static TheoryData<string, string, string, string, bool> Cases() => new()
    {
        // name, From, Subject, text body, expect "forwarded"
        { "redirected customer mail", "alice@customer.example", "Printer broken", "Hello, my printer is broken.", false },
        { "customer reply", "alice@customer.example", "Re: Printer broken", "Thanks!\n\nOn Mon, Bob wrote:\n> hi", false },
        { "From is the corporate address", "Support <SUPPORT@acme.example>", "Printer broken", "Hello", true },
        { "Gmail forward", "boss@acme.example", "Fwd: Printer broken", "FYI\n\n---------- Forwarded message ---------\nFrom: Alice <alice@customer.example>\n", true },
        { "Outlook forward", "boss@acme.example", "FW: Printer broken", "\n-----Original Message-----\nFrom: Alice\nSent: Monday\n", true },
        { "Outlook header block", "boss@acme.example", "FW: Printer broken", "see below\n\nFrom: Alice <alice@customer.example>\nSent: Monday, 1 March 2026 09:00\nTo: Support\n", true },
        { "Apple Mail forward", "boss@acme.example", "Fwd: Printer broken", "Begin forwarded message:\n\nFrom: Alice", true },
        { "Thunderbird forward", "boss@acme.example", "Fwd: Printer broken", "-------- Forwarded Message --------\nSubject: Printer broken", true },
        { "German Outlook forward", "chef@acme.example", "WG: Drucker kaputt", "----- Ursprüngliche Nachricht -----\nVon: Alice", true },
        { "French forward", "patron@acme.example", "TR: Imprimante", "-------- Message transféré --------\nDe : Alice", true },
        { "Fwd subject without quoted original", "alice@customer.example", "Fwd: an idea", "What do you think of this idea?", false },
        { "quoted original without Fwd subject", "alice@customer.example", "Printer broken", "---------- Forwarded message ---------", false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Detects_forwarded_mail(string name, string from, string subject, string text, bool forwarded)
    {
        var reason = ForwardedAsDetector.Detect(Message(from, subject, text), Corporate);
        Assert.True(forwarded == reason is not null, $"{name}: {reason ?? "not detected"}");
    }

    [Fact]
    public void Detects_original_attached_as_message_rfc822()
    {
        var original = Message("alice@customer.example", "Printer broken", "Hello");
        var reason = ForwardedAsDetector.Detect(Message("boss@acme.example", "Fwd: Printer broken", "See attached.", original), Corporate);
        Assert.NotNull(reason);
        Assert.Contains("message/rfc822", reason);
    }

    [Fact]
    public void Reason_names_the_corporate_address() =>
        Assert.Contains(Corporate, ForwardedAsDetector.Detect(Message(Corporate, "Hi", "x"), Corporate));
}
