using Sandbox.Server.Metrics;

namespace Sandbox.Server.Tests.Metrics;

public sealed class PrometheusTextWriterTests
{
    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a\\b", "a\\\\b")]
    [InlineData("say \"hi\"", "say \\\"hi\\\"")]
    [InlineData("two\nlines", "two\\nlines")]
    public void EscapeLabelValue_EscapesBackslashQuoteAndNewline(string value, string expected) =>
        PrometheusTextWriter.EscapeLabelValue(value).ShouldBe(expected);

    [Theory]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(0.0025, "0.0025")]
    [InlineData(1e-7, "1E-07")]
    [InlineData(12.0, "12")]
    public void FormatValue_UsesTheFormatsSpellings(double value, string expected) =>
        PrometheusTextWriter.FormatValue(value).ShouldBe(expected);

    [Fact]
    public void WriteFamily_EscapesBackslashAndNewlineInHelpButNotQuotes()
    {
        var writer = new PrometheusTextWriter();

        writer.WriteFamily("x_total", "counter", "a \"quoted\" \\ help\ntext");

        writer.ToString().ShouldBe("# HELP x_total a \"quoted\" \\\\ help\\ntext\n# TYPE x_total counter\n");
    }

    [Fact]
    public void WriteSample_WithAndWithoutLabels()
    {
        var writer = new PrometheusTextWriter();

        writer.WriteSample("a", [], 1L);
        writer.WriteSample("b", [new("k", "v"), new("l", "w")], 0.5);

        writer.ToString().ShouldBe("a 1\nb{k=\"v\",l=\"w\"} 0.5\n");
    }
}
