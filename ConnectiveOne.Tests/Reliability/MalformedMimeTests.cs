using ConnectiveOne.Tests.TestSupport;
using Xunit.Abstractions;

namespace ConnectiveOne.Tests.Reliability;

/// <summary>
/// Hostile input: every corpus message, thousands of deterministic mutations of them and synthetic parser
/// attacks go into the real app. None may crash intake or hang it; each is stored (parsed, or as raw bytes
/// with the reason) or refused with a reason. Set <c>C1_SOAK=1</c> for ten times the mutations.
/// </summary>
[Trait("Category", "Reliability")]
[RunsLong(30)]
public sealed class MalformedMimeTests(ITestOutputHelper output)
{
    /// <summary>Fixed, so a failure is the same bytes on every machine; C1_FUZZ_SEED tries another.</summary>
    private static readonly int Seed = int.TryParse(Environment.GetEnvironmentVariable("C1_FUZZ_SEED"), out var s) ? s : 20261127;

    private static readonly bool Soak = Environment.GetEnvironmentVariable("C1_SOAK") == "1";

    /// <summary>Damage classes where the writer matters (dedup keys, column sizes, NUL bytes in text).</summary>
    private static readonly HashSet<string> WriterProne = ["no-message-id", "double-message-id", "garbage-message-id", "long-header", "nul-and-8bit"];

    private static readonly Lazy<IReadOnlyList<(string Name, byte[] Bytes)>> Bases = new(CorpusMessages.Load);

    [Fact]
    public async Task Every_corpus_message_and_mbox_split_goes_through_intake_and_is_kept_or_refused()
    {
        await using var hostile = await HostileIntake.StartAsync();
        var messages = Bases.Value;
        Assert.True(messages.Count > 900, $"only {messages.Count} corpus messages found");

        // Four senders at once, like concurrent SMTP sessions: the writer commits them in groups.
        await Parallel.ForEachAsync(messages, new ParallelOptions { MaxDegreeOfParallelism = 4 },
            async (m, _) => await hostile.IntakeAsync(m.Name, m.Bytes));

        await AssertKeptOrRefusedAsync(hostile, $"corpus ({messages.Count} messages)");
    }

    [Fact]
    public async Task Ten_thousand_mutations_and_parser_attacks_never_crash_or_hang_intake()
    {
        await using var hostile = await HostileIntake.StartAsync();
        var mutator = new MimeMutator(Bases.Value, Seed);
        var count = Soak ? 100_000 : 10_000;
        var kinds = new Dictionary<string, int>();

        foreach (var attack in MimeMutator.Synthetic())
        {
            // Every synthetic attack goes the whole way: these are the ones built to hurt.
            await hostile.IntakeAsync($"synthetic {attack.Kind}: {attack.Base}", attack.Bytes);
            kinds[attack.Kind] = kinds.GetValueOrDefault(attack.Kind) + 1;
        }
        // One over the size limit: refused with the reason, nothing stored.
        await hostile.IntakeAsync("over the size limit", new byte[HostileIntake.MaxMessageBytes + 1]);

        // Four at a time, like concurrent SMTP sessions; each variant is built from its own seed, so order does not matter.
        await Parallel.ForEachAsync(mutator.Damaged(count), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (m, _) =>
        {
            var name = $"#{m.Index} {m.Kind} of {m.Base}";
            if (GoesThroughIntake(m))
                await hostile.IntakeAsync(name, m.Bytes);
            else
                hostile.Prepare(name, m.Bytes);
            lock (kinds)
                kinds[m.Kind] = kinds.GetValueOrDefault(m.Kind) + 1;
        });

        output.WriteLine("Mutations by kind: " + string.Join(", ", kinds.OrderBy(k => k.Key).Select(k => $"{k.Key} {k.Value}")));
        await AssertKeptOrRefusedAsync(hostile, $"mutations (seed {Seed}, {count} damaged + {kinds.Count - MimeMutator.DamageKinds.Length} synthetic kinds)");
        Assert.True(hostile.Counts.Refused.Value >= 1, "the over-limit message was not refused");
    }

    /// <summary>
    /// The sampled subset that takes the whole path (the rest goes through the preparer, where parsing happens):
    /// every 20th variant, and every other variant of the classes where the writer matters. About 2,000 of 10,000.
    /// </summary>
    private static bool GoesThroughIntake(Mutation m) =>
        m.Index % 20 == 0 || WriterProne.Contains(m.Kind) && m.Index / MimeMutator.DamageKinds.Length % 2 == 0;

    [Fact]
    public async Task Every_reproducer_in_the_replay_set_is_kept_or_refused()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "Reliability", "replay");
        var files = Directory.EnumerateFiles(folder, "*.eml").Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(files);
        await using var hostile = await HostileIntake.StartAsync();

        foreach (var file in files)
            await hostile.IntakeAsync(Path.GetFileName(file), await File.ReadAllBytesAsync(file));

        await AssertKeptOrRefusedAsync(hostile, $"replay set ({files.Count} files)");
    }

    [Fact]
    public void Html_nested_beyond_the_bound_is_replaced_by_a_notice_and_ordinary_nesting_is_sanitized()
    {
        var replay = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Reliability", "replay", "html-deeply-nested-unclosed-tags.eml"));
        var deep = Core.Inbound.Intake.HtmlBodySanitizer.Sanitize(replay[replay.IndexOf("<html>", StringComparison.Ordinal)..], _ => null);
        Assert.Equal(Core.Inbound.Intake.HtmlBodySanitizer.TooComplexNotice, deep.Html);

        // A newsletter's depth, sloppy unclosed <p> and <td> included, is far below the bound and sanitized as usual.
        var ordinary = string.Concat(Enumerable.Repeat("<table><tr><td><div><p>cell", 60)) + "<script>x()</script>";
        var sanitized = Core.Inbound.Intake.HtmlBodySanitizer.Sanitize(ordinary, _ => null);
        Assert.Contains("cell", sanitized.Html);
        Assert.DoesNotContain("script", sanitized.Html);
    }

    private async Task AssertKeptOrRefusedAsync(HostileIntake hostile, string what)
    {
        await hostile.RetimeSlowAsync();
        var counts = hostile.Counts;
        var (stored, unparseable, withoutReason, withoutRaw) = await hostile.StoredAsync();
        output.WriteLine($"{what}: {counts}");
        output.WriteLine($"In the database: stored {stored}, of which stored as unparseable {unparseable}");
        foreach (var failure in counts.Failures)
            output.WriteLine(failure);

        Assert.True(counts.Failures.Count == 0, string.Join("\n", counts.Failures));
        Assert.Equal(counts.IntakeStored.Value, stored);
        Assert.Equal(counts.IntakeCount, counts.IntakeStored.Value + counts.IntakeDuplicate.Value + RefusedThroughIntake(counts));
        Assert.Equal(0, withoutReason);
        Assert.Equal(0, withoutRaw);
    }

    private static int RefusedThroughIntake(HostileIntake.Tally counts) =>
        counts.Refused.Value - (counts.PreparedCount - counts.PreparedParsed.Value - counts.PreparedUnparseable.Value);
}
