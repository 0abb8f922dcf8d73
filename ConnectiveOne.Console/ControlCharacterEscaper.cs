using System.Buffers;
using System.Globalization;
using System.Text;
using Serilog.Core;
using Serilog.Events;

namespace ConnectiveOne.Console;

/// <summary>
/// Escapes control characters in the text values of every log event (<c>\r</c>, <c>\n</c>, <c>\u001b</c>, …):
/// values such as a Message-ID or a sender's display name come from inbound mail, and verbatim they would forge log
/// lines or send terminal escape sequences to whoever reads the log. Values without such characters pass untouched.
/// </summary>
internal sealed class ControlCharacterEscaper : ILogEventEnricher
{
    // C0, DEL and C1 controls, the Unicode line and paragraph separators, and the bidirectional overrides that can
    // make a log line read differently from what it holds.
    private static readonly SearchValues<char> Unsafe = SearchValues.Create(
        string.Concat(Enumerable.Range(0, 0x20).Concat(Enumerable.Range(0x7F, 0x21)).Concat([0x2028, 0x2029])
            .Concat(Enumerable.Range(0x202A, 5)).Concat(Enumerable.Range(0x2066, 4)).Select(c => (char)c)));

    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        List<LogEventProperty>? escaped = null;
        foreach (var (name, value) in logEvent.Properties)
        {
            if (Escape(value) is { } safe)
                (escaped ??= []).Add(new LogEventProperty(name, safe));
        }
        foreach (var property in escaped ?? [])
            logEvent.AddOrUpdateProperty(property);
    }

    /// <summary>The value with its text escaped, or null when nothing in it needs escaping.</summary>
    private static LogEventPropertyValue? Escape(LogEventPropertyValue value)
    {
        switch (value)
        {
            case ScalarValue { Value: string text } when text.AsSpan().ContainsAny(Unsafe):
                return new ScalarValue(Escape(text));
            case SequenceValue sequence:
                var elements = sequence.Elements.Select(e => Escape(e)).ToList();
                return elements.Any(e => e is not null)
                    ? new SequenceValue(sequence.Elements.Select((e, i) => elements[i] ?? e))
                    : null;
            case StructureValue structure:
                var properties = structure.Properties.Select(p => Escape(p.Value)).ToList();
                return properties.Any(p => p is not null)
                    ? new StructureValue(structure.Properties.Select((p, i) => properties[i] is { } safe ? new LogEventProperty(p.Name, safe) : p), structure.TypeTag)
                    : null;
            default:
                return null;
        }
    }

    public static string Escape(string text)
    {
        var escaped = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            if (!Unsafe.Contains(c))
                escaped.Append(c);
            else
                escaped.Append(c switch
                {
                    '\r' => @"\r",
                    '\n' => @"\n",
                    '\t' => @"\t",
                    _ => @"\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
                });
        }
        return escaped.ToString();
    }
}
