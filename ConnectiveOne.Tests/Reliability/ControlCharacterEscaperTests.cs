using ConnectiveOne.Console;
using Serilog.Events;
using Serilog.Parsing;

namespace ConnectiveOne.Tests.Reliability;

/// <summary>The log escaper alone: which characters it escapes, how, and that it reaches nested values.</summary>
[Trait("Database", "Unused")]
public sealed class ControlCharacterEscaperTests
{
    [Theory]
    [InlineData("plain text, ünïcödé, 日本語", "plain text, ünïcödé, 日本語")]
    [InlineData("line\r\n2026-12-07 [ERR] forged", @"line\r\n2026-12-07 [ERR] forged")]
    [InlineData("tab\there", @"tab\there")]
    [InlineData("\u001b[2J\u0007\0", @"\u001b[2J\u0007\u0000")]
    [InlineData("del\u007f c1\u0085 ls\u2028 ps\u2029 rlo\u202e lri\u2066", @"del\u007f c1\u0085 ls\u2028 ps\u2029 rlo\u202e lri\u2066")]
    public void Control_characters_are_written_as_escapes_and_other_text_is_kept(string value, string logged) =>
        Assert.Equal(logged, ControlCharacterEscaper.Escape(value));

    [Fact]
    public void Text_inside_lists_and_objects_is_escaped_and_other_values_are_left_alone()
    {
        var logEvent = new LogEvent(DateTimeOffset.UtcNow, LogEventLevel.Information, null, new MessageTemplateParser().Parse("{A} {B} {C} {D}"),
        [
            new LogEventProperty("A", new ScalarValue("a\nb")),
            new LogEventProperty("B", new SequenceValue([new ScalarValue("ok"), new ScalarValue("c\u001bd")])),
            new LogEventProperty("C", new StructureValue([new LogEventProperty("Inner", new ScalarValue("e\rf"))])),
            new LogEventProperty("D", new ScalarValue(42)),
        ]);
        new ControlCharacterEscaper().Enrich(logEvent, null!);
        Assert.Equal(@"""a\nb"" [""ok"", ""c\u001bd""] { Inner: ""e\rf"" } 42", logEvent.RenderMessage());
    }
}
