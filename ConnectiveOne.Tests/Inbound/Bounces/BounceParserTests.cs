using System.Text;
using ConnectiveOne.Core.Inbound;
using ConnectiveOne.Core.Inbound.Bounces;
using ConnectiveOne.Tests.TestSupport;
using Xunit.Abstractions;

namespace ConnectiveOne.Tests.Inbound.Bounces;

[Trait("Database", "Unused")] // touches no database: runs in the SQLite pass only
public class BounceParserTests(ITestOutputHelper output)
{
    /// <summary>
    /// One bounce per family, read by hand: the returned Message-ID, the failed recipient, the status and words the
    /// diagnostic must carry.
    /// </summary>
    public static TheoryData<string, string, string, string?, string, BounceAction> Families() => new()
    {
        // file, returned Message-ID, recipient(s), status, part of the diagnostic, action
        { "bounce/sisimai/bsd/rfc3464-01.eml", "E1C50F1B-1C83-4820-BC36-AC6FBFBE8568@example.org", "userunknown@bouncehammer.jp", "5.1.1", "The mailbox does not exist (5.1.1): 550 5.1.1 <userunknown@bouncehammer.jp>... User Unknown", BounceAction.Failed },
        { "bounce/sisimai/bsd/lhost-qmail-01.eml", "000000000.9999999999999.JavaMail.postmaster@mailhub", "kijitora@example.ne.jp", "5.5.0", "remote host 192.0.2.32 said: 550 Unknown user", BounceAction.Failed },
        { "bounce/sisimai/bsd/lhost-exim-01.eml", "E1P1ce6-000Egt-GZ@e1.example.org", "kijitora@example.ed.jp", "5.7.0", "Please use the smtp server of your ISP", BounceAction.Failed },
        { "bounce/sisimai/bsd/lhost-gmail-01.eml", "D992C2C3-F175-4C4D-97E2-53A90E4E5BF5@gmail.com", "userunknown@example.jp", "5.1.1", "Google tried to deliver your message", BounceAction.Failed },
        { "bounce/sisimai/bsd/lhost-yahoo-01.eml", "6AE6249A-E7A8-4980-862C-F499F6B8E7C5@y.example.co.jp", "kijitora@example.org", "5.1.1", "Remote host said: 550 5.1.1 <kijitora@example.org>... User Unknown", BounceAction.Failed },
        { "bounce/sisimai/bsd/rhost-google-02.eml", "2018042233445.A95F8E533589@mail.example.co.jp", "neko-nyaan@example.org", "5.1.1", "The email account that you tried to reach does not exist", BounceAction.Failed },
        { "bounce/sisimai/bsd/lhost-office365-02.eml", "c302b7e8-9b97-40ef-90eb-313cc6c25133@NYAAAAN.example.org", "kijitora@example.onmicrosoft.com", "5.1.1", "RESOLVER.ADR.RecipNotFound", BounceAction.Failed },
        { "bounce/sisimai/bsd/lhost-exchange2007-02.eml", "20110429233445.FFFFFFFFEEE@neko.example.com", "kijitora@example.edu", "5.2.2", "The mailbox is full (5.2.2)", BounceAction.Failed },
        { "bounce/sisimai/bsd/lhost-postfix-03.eml", "20140701000000.000000000000@e1.example.ne.jp", "kijitora@example.net", "5.0.0", "550 Unknown user kijitora@example.net", BounceAction.Failed },
        { "bounce/sisimai/bsd/lhost-x2-03.eml", "00000000000000000@example.co.jp", "kijitora@example.org", null, "unable to connect to remote server", BounceAction.Failed },
        { "bounce/sisimai/mac-cr/lhost-amavis-01.eml", "Qdmail.0.0.0e_8ed60e1eb3e559f02254e3437c3110b1@example.net", "neko@example.co.jp", "5.1.1", "User unknown in virtual mailbox table", BounceAction.Failed },
        { "bounce/chatwoot/bounced_gmail.eml", "conversation/93775311-9416-4428-964b-862001f8a8b2/messages/27855337@gmail.com", "alex.jones@fictionalcorp.com", "5.1.1", "The email account that you tried to reach does not", BounceAction.Failed },
        { "bounce/flanker/mailbox-full.eml", "4E326A95.3010907@example.com", "user@aol.com", "5.2.2", "552 5.2.2 E4.12 user MAILBOX FULL", BounceAction.Failed },
        { "bounce/flanker/no-mx.eml", "19E44CA63F984902B7D654F8FF40F89D@bo", "user@example.com", "4.4.4", "no MX or A for domain", BounceAction.Delayed },
        { "bounce/sisimai/bsd/rfc3464-28.eml", "20151025071802.22CC00222233@neko-222-2222.vs.example.ne.jp", "kijitora@neko.example.jp", "2.1.5", "250 2.1.5 Ok", BounceAction.Delivered },
    };

    [Theory]
    [MemberData(nameof(Families))]
    public void Reads_the_returned_message_recipient_status_and_diagnostic(string file, string messageId, string recipients, string? status,
        string diagnostic, BounceAction action)
    {
        var report = BounceParser.Parse(Corpus.LoadMessage(Corpus.PathOf(file)));
        Assert.NotNull(report);
        output.WriteLine(report.Diagnostic);
        Assert.Equal(messageId, report.OriginalMessageIds[0]);
        Assert.Equal(recipients, report.RecipientText);
        Assert.Equal(status, report.Status);
        Assert.Contains(diagnostic, report.Diagnostic);
        Assert.Equal(action, report.Action);
    }

    [Fact]
    public void Most_corpus_bounces_name_the_returned_message_and_a_recipient()
    {
        var files = BounceCorpus.Files();
        var reports = files.Select(f => (File: f, Report: BounceParser.Parse(Corpus.LoadMessage(Corpus.PathOf(f))))).ToList();
        var withId = reports.Count(r => r.Report?.OriginalMessageIds.Count > 0);
        var withRecipient = reports.Count(r => r.Report?.Recipients.Count > 0);
        output.WriteLine($"{files.Count} bounces: returned Message-ID read in {withId}, recipient in {withRecipient}. Without a report: "
            + string.Join(", ", reports.Where(r => r.Report is null).Select(r => r.File)));
        // Measured 197 and 242 of 245; the rest do not quote the returned message's Message-ID, or name no address at all.
        Assert.True(withId >= files.Count * 78 / 100, $"Message-ID read in only {withId} of {files.Count}");
        Assert.True(withRecipient >= files.Count * 95 / 100, $"recipient read in only {withRecipient} of {files.Count}");
        Assert.All(reports.Where(r => r.Report is not null), r => Assert.False(string.IsNullOrWhiteSpace(r.Report!.Diagnostic)));
    }

    [Fact]
    public void A_delay_warning_written_in_words_is_not_a_failure()
    {
        var raw = "From: Mail Delivery System <MAILER-DAEMON@mx.example>\r\nTo: support@acme.test\r\nSubject: Delivery delayed\r\n\r\n" +
                  "This is an automatically generated Delivery Status Notification.\r\n\r\n" +
                  "Delivery to the following recipient has been delayed:\r\n\r\n     carol@customer.example\r\n\r\n" +
                  "Message will be retried for 2 more day(s)\r\n\r\n----- Original message -----\r\n\r\nMessage-ID: <abc@acme.test>\r\n";
        var report = BounceParser.Parse(RawMessageParser.Parse(Encoding.ASCII.GetBytes(raw)));
        Assert.NotNull(report);
        Assert.Equal((BounceAction.Delayed, "carol@customer.example", "abc@acme.test"), (report.Action, report.RecipientText, report.OriginalMessageIds.Single()));
    }

    [Theory]
    [InlineData("5.1.1", "The mailbox does not exist")]
    [InlineData("5.2.2", "The mailbox is full")]
    [InlineData("4.4.7", "Delivery took too long and was given up (temporary)")]
    [InlineData("5.7.99", "Refused by the receiving server's policy")]
    [InlineData("5.9.9", "Delivery failed")]
    [InlineData("not a code", null)]
    public void Status_codes_in_words(string status, string? words) => Assert.Equal(words, StatusCodeWords.Describe(status));
}
