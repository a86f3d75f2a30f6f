using System.Globalization;
using Sandbox.Core.Text;
using Serilog.Core;
using Serilog.Events;

namespace Sandbox.Server.Logging;

/// <summary>
/// Escapes every string a log event carries (request paths, agent names, purposes, reasons: much of it chosen
/// by whoever sent the request), so each event renders as exactly one line that nobody can forge or hide part of.
/// </summary>
/// <remarks>
/// <para>
/// One place for every sink, the console and the file and any a <c>Serilog</c> section configures: the event's
/// property values are rewritten before any sink renders them. Control characters (newline, carriage return,
/// ESC and the other C0 and C1 controls), line separators and hidden characters (format characters, tags;
/// <see cref="DisplayText.IsHidden"/>) become <c>\u{XXXX}</c>, as <c>sandbox approvals show</c> writes them. A
/// request path of <c>/v1/runs%0A[INF] fake line</c> is logged as <c>/v1/runs\u{000A}[INF] fake line</c>.
/// </para>
/// <para>
/// Strings inside structured values, sequences and dictionaries (keys too) are escaped as well, and so is the
/// text of any other object a property holds (a <c>PathString</c>, a <c>Uri</c>), which a sink would render
/// with <see cref="object.ToString"/>. Numbers, dates and the like are left as they are. Message templates are
/// our own constant text ([LoggerMessage]); an exception's text is rendered by the sink and is not rewritten.
/// </para>
/// </remarks>
internal sealed class EscapingEnricher : ILogEventEnricher
{
    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        List<LogEventProperty>? escaped = null;
        foreach (var (name, value) in logEvent.Properties)
        {
            var safe = Escape(value);
            if (!ReferenceEquals(safe, value))
            {
                (escaped ??= []).Add(new LogEventProperty(name, safe));
            }
        }

        // Updated after the walk: the properties cannot change while they are being enumerated.
        foreach (var property in escaped ?? [])
        {
            logEvent.AddOrUpdateProperty(property);
        }
    }

    /// <summary><paramref name="value"/> with every string in it escaped; the same instance when nothing needed it.</summary>
    internal static LogEventPropertyValue Escape(LogEventPropertyValue value) => value switch
    {
        ScalarValue scalar => Escape(scalar),
        SequenceValue sequence => EscapeAll(sequence.Elements, out var elements) ? new SequenceValue(elements) : value,
        StructureValue structure => EscapeAll(structure.Properties, out var properties) ? new StructureValue(properties, structure.TypeTag) : value,
        DictionaryValue dictionary => EscapeAll(dictionary.Elements, out var pairs) ? new DictionaryValue(pairs) : value,
        _ => value,
    };

    private static ScalarValue Escape(ScalarValue scalar)
    {
        var text = scalar.Value switch
        {
            null or bool or char or byte or sbyte or short or ushort or int or uint or long or ulong or float or double or decimal
                or DateTime or DateTimeOffset or TimeSpan or Guid or Enum => null,
            string s => s,
            var other => Convert.ToString(other, CultureInfo.InvariantCulture),
        };
        if (text is null)
        {
            return scalar;
        }

        var safe = DisplayText.Escape(text, keepNewlinesAndTabs: false);
        return ReferenceEquals(safe, text) ? scalar : new ScalarValue(safe);
    }

    private static bool EscapeAll(IReadOnlyList<LogEventPropertyValue> values, out List<LogEventPropertyValue> escaped)
    {
        escaped = [.. values.Select(Escape)];
        return Changed(values, escaped);
    }

    private static bool EscapeAll(IReadOnlyList<LogEventProperty> properties, out List<LogEventProperty> escaped)
    {
        escaped = [.. properties.Select(p => Escape(p.Value) is var safe && !ReferenceEquals(safe, p.Value) ? new LogEventProperty(p.Name, safe) : p)];
        return Changed(properties, escaped);
    }

    private static bool EscapeAll(IReadOnlyDictionary<ScalarValue, LogEventPropertyValue> pairs, out List<KeyValuePair<ScalarValue, LogEventPropertyValue>> escaped)
    {
        var changed = false;
        escaped = new List<KeyValuePair<ScalarValue, LogEventPropertyValue>>(pairs.Count);
        foreach (var (key, value) in pairs)
        {
            var safeKey = Escape(key);
            var safeValue = Escape(value);
            changed |= !ReferenceEquals(safeKey, key) || !ReferenceEquals(safeValue, value);
            escaped.Add(new(safeKey, safeValue));
        }

        return changed;
    }

    private static bool Changed<T>(IReadOnlyList<T> before, List<T> after)
        where T : class
    {
        for (var i = 0; i < before.Count; i++)
        {
            if (!ReferenceEquals(before[i], after[i]))
            {
                return true;
            }
        }

        return false;
    }
}
