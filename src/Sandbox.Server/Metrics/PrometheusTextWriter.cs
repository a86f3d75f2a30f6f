using System.Globalization;
using System.Text;

namespace Sandbox.Server.Metrics;

/// <summary>
/// Writes the Prometheus text exposition format 0.0.4: a <c># HELP</c> and a <c># TYPE</c> line per family,
/// then one sample per line, <c>name{label="value",...} number</c>.
/// </summary>
/// <remarks>See https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format.</remarks>
internal sealed class PrometheusTextWriter
{
    private readonly StringBuilder _builder = new();

    /// <summary>Starts a metric family. <paramref name="type"/> is <c>counter</c>, <c>gauge</c> or <c>histogram</c>.</summary>
    public void WriteFamily(string name, string type, string help)
    {
        // HELP escapes only backslash and newline; a quote is literal there.
        _builder.Append("# HELP ").Append(name).Append(' ');
        foreach (var c in help)
        {
            _ = c switch
            {
                '\\' => _builder.Append(@"\\"),
                '\n' => _builder.Append(@"\n"),
                _ => _builder.Append(c),
            };
        }

        _builder.Append('\n').Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
    }

    /// <summary>One sample; <paramref name="labels"/> in the order given.</summary>
    public void WriteSample(string name, ReadOnlySpan<KeyValuePair<string, string>> labels, double value)
    {
        WriteName(name, labels);
        _builder.Append(FormatValue(value)).Append('\n');
    }

    /// <summary>One sample with an integer value (counters and bucket counts), written without a decimal point.</summary>
    public void WriteSample(string name, ReadOnlySpan<KeyValuePair<string, string>> labels, long value)
    {
        WriteName(name, labels);
        _builder.Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    /// <summary>The text written so far.</summary>
    public override string ToString() => _builder.ToString();

    /// <summary>A float as the format spells it: <c>+Inf</c>, <c>-Inf</c>, <c>NaN</c>, else the shortest round-trip form.</summary>
    public static string FormatValue(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ when double.IsNaN(value) => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    /// <summary>A label value with backslash, double quote and newline escaped, as the format requires.</summary>
    public static string EscapeLabelValue(string value)
    {
        if (value.AsSpan().IndexOfAny('\\', '"', '\n') < 0)
        {
            return value;
        }

        var builder = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            _ = c switch
            {
                '\\' => builder.Append(@"\\"),
                '"' => builder.Append("\\\""),
                '\n' => builder.Append(@"\n"),
                _ => builder.Append(c),
            };
        }

        return builder.ToString();
    }

    private void WriteName(string name, ReadOnlySpan<KeyValuePair<string, string>> labels)
    {
        _builder.Append(name);
        if (!labels.IsEmpty)
        {
            _builder.Append('{');
            for (var i = 0; i < labels.Length; i++)
            {
                if (i > 0)
                {
                    _builder.Append(',');
                }

                _builder.Append(labels[i].Key).Append("=\"").Append(EscapeLabelValue(labels[i].Value)).Append('"');
            }

            _builder.Append('}');
        }

        _builder.Append(' ');
    }
}
