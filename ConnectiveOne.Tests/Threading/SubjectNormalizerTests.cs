using System.Text.Json;
using ConnectiveOne.Core.Threading;
using ConnectiveOne.Tests.TestSupport;
using MimeKit;

namespace ConnectiveOne.Tests.Threading;

[Trait("Database", "Unused")] // touches no database: runs in the SQLite pass only
public class SubjectNormalizerTests
{
    [Theory]
    [InlineData("Printer broken", "Printer broken")]
    [InlineData("Re: Printer broken", "Printer broken")]
    [InlineData("RE: RE: re:Printer broken", "Printer broken")]
    [InlineData("AW: Re: WG: Printer broken", "Printer broken")]
    [InlineData("Sv: SV: Printer broken", "Printer broken")]
    [InlineData("Antw: Printer broken", "Printer broken")]
    [InlineData("Fwd: FW: Fw: Printer broken", "Printer broken")]
    [InlineData("TR: RV: Printer broken", "Printer broken")]
    [InlineData("Re[2]: Printer broken", "Printer broken")]
    [InlineData("Re(3): Printer broken", "Printer broken")]
    [InlineData("RE : Printer broken", "Printer broken")]
    [InlineData("Re：Printer broken", "Printer broken")]
    [InlineData("Re：Re： Printer broken", "Printer broken")]
    [InlineData("Re:\tPrinter \r\n  broken ", "Printer broken")]
    [InlineData("[support] Re: Printer broken", "Printer broken")]
    [InlineData("Re: [support] Printer broken", "Printer broken")]
    [InlineData("Printer broken (fwd)", "Printer broken")]
    [InlineData("[Fwd: Printer broken]", "Printer broken")]
    [InlineData("Re: [#123] Printer broken", "Printer broken")]
    [InlineData("Printer broken [#123]", "Printer broken")]
    [InlineData("[xyz]", "[xyz]")]
    [InlineData("Re: [xyz]", "[xyz]")]
    [InlineData("Ad: Re: x", "Ad: Re: x")]
    [InlineData("Reply needed: invoice", "Reply needed: invoice")]
    [InlineData("", "")]
    [InlineData(null, "")]
    public void Normalize_strips_prefixes(string? subject, string expected)
        => Assert.Equal(expected, SubjectNormalizer.Normalize(subject).Base);

    [Theory]
    [InlineData("Re: [#123] Printer broken", 123L)]
    [InlineData("Printer broken [#7]", 7L)]
    [InlineData("AW: [support] [#42] Printer", 42L)]
    [InlineData("Printer [#abc]", null)]
    [InlineData("Printer #12", null)]
    public void Normalize_extracts_ticket_token(string subject, long? expected) =>
        Assert.Equal(expected, SubjectNormalizer.Normalize(subject).TicketNumber);

    [Fact]
    public void List_tags_can_be_kept() =>
        Assert.Equal("[support] Printer", SubjectNormalizer.Normalize("Re: [support] Printer", stripListTags: false, extraPrefixes: null).Base);

    [Fact]
    public void Extra_prefixes_are_honoured() =>
        Assert.Equal("Plan", SubjectNormalizer.Normalize("Respuesta: Plan", stripListTags: true, extraPrefixes: ["respuesta"]).Base);

    [Fact]
    public void Match_key_ignores_case() =>
        Assert.Equal(SubjectNormalizer.Normalize("RE: PRINTER").MatchKey, SubjectNormalizer.Normalize("printer").MatchKey);

    /// <summary>imaptest's SORT (SUBJECT) expectation: base subjects compared with i;ascii-casemap, ties by sequence number.</summary>
    [Fact]
    public void Base_subjects_sort_like_imaptest_sort_subject()
    {
        var script = File.ReadAllLines(Corpus.PathOf("thread/imaptest/sort-subject"));
        var command = Array.FindIndex(script, l => l.StartsWith("ok sort (subject) ", StringComparison.Ordinal));
        Assert.True(command >= 0, "sort-subject script has no 'sort (subject)' command");
        var expected = script[command + 1].Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(2).Select(int.Parse).ToList();

        var subjects = new List<string>();
        using (var stream = File.OpenRead(Corpus.PathOf("thread/imaptest/sort-subject.mbox")))
        {
            var parser = new MimeParser(stream, MimeFormat.Mbox);
            while (!parser.IsEndOfStream)
                subjects.Add(SubjectNormalizer.Normalize(parser.ParseMessage().Subject).Base.ToUpperInvariant());
        }

        var actual = subjects
            .Select((s, i) => (Key: s, Seq: i + 1))
            .OrderBy(x => x.Key, StringComparer.Ordinal)
            .ThenBy(x => x.Seq)
            .Select(x => x.Seq)
            .ToList();
        Assert.Equal(expected, actual);
    }

    /// <summary>Prefix fixtures from mail-threading-conformance: every subject of the fixture has the same base.</summary>
    [Theory]
    [InlineData("localized-subject-prefixes.json")]
    [InlineData("subject-blob-normalization.json")]
    [InlineData("subject-forward-wrapper-normalization.json")]
    [InlineData("subject-trailer-fwd-normalization.json")]
    [InlineData("subject-whitespace-normalization.json")]
    [InlineData("subject-fallback-groups-headerless.json")]
    public void Conformance_subject_fixtures_share_one_base(string file)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Corpus.PathOf($"thread/mail-threading-conformance/{file}")));
        var bases = doc.RootElement.GetProperty("input").EnumerateArray()
            .Select(m => SubjectNormalizer.Normalize(m.GetProperty("subject").GetString()).MatchKey)
            .Distinct()
            .ToList();
        Assert.Single(bases);
    }
}
