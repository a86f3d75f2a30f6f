// The tests log ad-hoc messages to see what the sinks receive; [LoggerMessage] methods per message would only hide that.
#pragma warning disable CA1848, CA1873

using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Sandbox.Server.Logging;
using Sandbox.Server.Mcp;
using Sandbox.Server.Tests.Mcp;
using Serilog.Events;
using Serilog.Formatting.Display;

namespace Sandbox.Server.Tests.Logging;

public sealed class EscapingEnricherTests
{
    /// <summary>A forged line, a cursor move and a colour, a hidden tag character: what a request path or purpose may hold.</summary>
    private const string Hostile = "/v1/runs\n[INF] fake line\r\u001b[2K\u001b[31mred\u200b\U000E0041";

    private const string Escaped = @"/v1/runs\u{000A}[INF] fake line\u{000D}\u{001B}[2K\u{001B}[31mred\u{200B}\u{E0041}";

    [Theory]
    [InlineData(SandboxLogging.ConsoleTemplate)]
    [InlineData(SandboxLogging.FileTemplate)]
    public void Configure_RequestValuesWithNewlinesAndEscapes_RenderAsOneEscapedLine(string template)
    {
        var events = Log(logger =>
        {
            using (logger.BeginScope(new Dictionary<string, object> { ["RunId"] = "run_1\n[ERR] forged" }))
            {
                logger.LogWarning("Refused a call to {Action}: {Code}", "POST " + Hostile, "malformed_key");
                logger.LogInformation("run_code purpose: {Purpose}", "check\n[INF] fake line\u001b]0;title\u0007");
            }
        });

        var refused = Render(template, events[0]);
        var purpose = Render(template, events[1]);

        refused.ShouldEndWith($"run_1\\u{{000A}}[ERR] forged {(template == SandboxLogging.FileTemplate ? typeof(EscapingEnricherTests).FullName + ": " : "")}Refused a call to POST {Escaped}: malformed_key{Environment.NewLine}");
        purpose.ShouldContain(@"run_code purpose: check\u{000A}[INF] fake line\u{001B}]0;title\u{0007}");
        foreach (var line in new[] { refused, purpose })
        {
            line.TrimEnd('\r', '\n').ShouldNotContain('\n');
            line.TrimEnd('\r', '\n').ShouldNotContain('\r');
            line.ShouldNotContain('\u001b');
        }
    }

    /// <summary>
    /// End to end through a file sink that a <c>Serilog</c> section configures (the escaping is not the default
    /// sinks' doing): a model-chosen purpose goes through run_code into the log file as one escaped line.
    /// </summary>
    [Fact]
    public async Task RunCode_PurposeWithNewlineAndEscapes_IsOneEscapedLineInTheLogFile()
    {
        var directory = Directory.CreateTempSubdirectory("sandbox-log-test-");
        try
        {
            var file = Path.Join(directory.FullName, "sandbox.log");
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Serilog:MinimumLevel:Default"] = "Debug",
                ["Serilog:WriteTo:0:Name"] = "File",
                ["Serilog:WriteTo:0:Args:path"] = file,
                ["Serilog:WriteTo:0:Args:outputTemplate"] = SandboxLogging.FileTemplate,
            }).Build();
            var arguments = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(
                """{"language":"python","code":"print(1+1)","purpose":"check\n[INF] fake line\r\u001b[2K\u001b[31mall good"}""")!;
            using (var services = new ServiceCollection()
                .AddLogging(logging => SandboxLogging.Configure(logging, configuration, consoleToStderr: false))
                .BuildServiceProvider())
            {
                var tools = new SandboxMcpTools(new FakeRunGateway(), Some.Ceilings(), services.GetRequiredService<ILogger<SandboxMcpTools>>());
                await tools.CallAsync(ToolDefinitions.RunCode, arguments, TestContext.Current.CancellationToken);
            }

            var lines = await File.ReadAllLinesAsync(file, TestContext.Current.CancellationToken);

            lines.Count(l => l.Contains("run_code purpose:", StringComparison.Ordinal)).ShouldBe(1);
            lines.Single(l => l.Contains("run_code purpose:", StringComparison.Ordinal))
                .ShouldEndWith(@"run_code purpose: check\u{000A}[INF] fake line\u{000D}\u{001B}[2K\u{001B}[31mall good");
            lines.ShouldNotContain(l => l.StartsWith("[INF] fake line", StringComparison.Ordinal));
            lines.ShouldAllBe(l => !l.Contains('\u001b') && !l.Contains('\r'));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void Configure_StringsInsideStructuresSequencesAndObjects_AreEscapedToo()
    {
        var events = Log(logger => logger.LogInformation(
            "{@Request} {Names} {Other}",
            new { Path = "a\nb", Agent = "x" },
            new List<string> { "ok", "c\u001bd" },
            new System.Text.StringBuilder("e\nf")));

        var line = Render("{Message:lj}", events[0]);

        // JSON rendering (the j) escapes the escape's backslash once more; what matters is that it stays on one line.
        line.ShouldNotContain('\n');
        line.ShouldNotContain('\u001b');
        line.ShouldBe(@"{""Path"":""a\\u{000A}b"",""Agent"":""x""} [""ok"",""c\\u{001B}d""] e\u{000A}f");
    }

    [Fact]
    public void Configure_CleanValuesAndNumbers_AreUnchanged()
    {
        var events = Log(logger => logger.LogInformation("Run {RunId} completed: {Status} after {RunMs} ms", "run_0123", "ok", 42));

        Render("{Message:lj}", events[0]).ShouldBe("Run run_0123 completed: ok after 42 ms");
        events[0].Properties["RunMs"].ShouldBe(new ScalarValue(42));
    }

    private static IReadOnlyList<LogEvent> Log(Action<ILogger> write)
    {
        var sink = new CollectingSink();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Serilog:MinimumLevel:Default"] = "Information" }).Build();
        using (var services = new ServiceCollection()
            .AddLogging(logging => SandboxLogging.Configure(logging, configuration, consoleToStderr: false, c => c.WriteTo.Sink(sink)))
            .BuildServiceProvider())
        {
            write(services.GetRequiredService<ILogger<EscapingEnricherTests>>());
        }

        return sink.Events;
    }

    private static string Render(string template, LogEvent logEvent)
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        new MessageTemplateTextFormatter(template, CultureInfo.InvariantCulture).Format(logEvent, writer);
        return writer.ToString();
    }
}
