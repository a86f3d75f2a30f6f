// The tests log ad-hoc messages to see what the sinks receive; [LoggerMessage] methods per message would only hide that.
#pragma warning disable CA1848, CA1873

using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sandbox.Server.Logging;
using Serilog.Events;
using Serilog.Formatting.Display;

namespace Sandbox.Server.Tests.Logging;

public sealed class SandboxLoggingTests
{
    /// <summary>A Serilog section with no sinks, so only the test's sink receives events.</summary>
    private static IConfiguration SinkOnlyConfiguration(string minimumLevel = "Information") =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Serilog:MinimumLevel:Default"] = minimumLevel,
        }).Build();

    private static ServiceProvider BuildLogging(IConfiguration configuration, CollectingSink sink) =>
        new ServiceCollection()
            .AddLogging(logging => SandboxLogging.Configure(logging, configuration, consoleToStderr: false, c => c.WriteTo.Sink(sink)))
            .BuildServiceProvider();

    [Fact]
    public void Configure_ScopeWithRunId_PutsRunIdOnEveryEventInside()
    {
        var sink = new CollectingSink();
        using (var services = BuildLogging(SinkOnlyConfiguration(), sink))
        {
            var logger = services.GetRequiredService<ILogger<SandboxLoggingTests>>();
            using (logger.BeginScope(new Dictionary<string, object> { ["RunId"] = "run_0123" }))
            {
                logger.LogInformation("queued");
                using (logger.BeginScope(new Dictionary<string, object> { ["Step"] = "compile" }))
                {
                    logger.LogWarning("slow");
                }
            }

            logger.LogInformation("outside");
        }

        var events = sink.Events;
        events.Count.ShouldBe(3);
        events[0].Properties["RunId"].ShouldBe(new ScalarValue("run_0123"));
        events[1].Properties["RunId"].ShouldBe(new ScalarValue("run_0123"));
        events[1].Properties["Step"].ShouldBe(new ScalarValue("compile"));
        events[2].Properties.ContainsKey("RunId").ShouldBeFalse();
        events[0].Properties["SourceContext"].ShouldBe(new ScalarValue(typeof(SandboxLoggingTests).FullName));
    }

    [Fact]
    public void Configure_ScopeWithRunId_SetsTheRunTagTheTemplatesShow()
    {
        var sink = new CollectingSink();
        using (var services = BuildLogging(SinkOnlyConfiguration(), sink))
        {
            var logger = services.GetRequiredService<ILogger<SandboxLoggingTests>>();
            using (logger.BeginScope(new Dictionary<string, object> { ["RunId"] = "run_0123" }))
            {
                logger.LogInformation("inside");
            }

            logger.LogInformation("outside");
        }

        Render(SandboxLogging.ConsoleTemplate, sink.Events[0]).ShouldEndWith(" INF] run_0123 inside" + Environment.NewLine);
        Render(SandboxLogging.ConsoleTemplate, sink.Events[1]).ShouldEndWith(" INF] outside" + Environment.NewLine);
        Render(SandboxLogging.FileTemplate, sink.Events[0]).ShouldEndWith($" [INF] run_0123 {typeof(SandboxLoggingTests).FullName}: inside" + Environment.NewLine);
    }

    [Fact]
    public void Configure_MessageThatNamesTheRunId_DoesNotRepeatItInTheTag()
    {
        var sink = new CollectingSink();
        using (var services = BuildLogging(SinkOnlyConfiguration(), sink))
        {
            var logger = services.GetRequiredService<ILogger<SandboxLoggingTests>>();
            using (logger.BeginScope(new Dictionary<string, object> { ["RunId"] = "run_0123" }))
            {
                logger.LogInformation("Run {RunId} accepted", "run_0123");
            }

            logger.LogInformation("Run {RunId} finished", "run_4567");
        }

        Render(SandboxLogging.ConsoleTemplate, sink.Events[0]).ShouldEndWith(" INF] Run run_0123 accepted" + Environment.NewLine);
        Render(SandboxLogging.ConsoleTemplate, sink.Events[1]).ShouldEndWith(" INF] Run run_4567 finished" + Environment.NewLine);
    }

    [Fact]
    public void Configure_SerilogSection_SetsTheMinimumLevel()
    {
        var sink = new CollectingSink();
        using (var services = BuildLogging(SinkOnlyConfiguration("Warning"), sink))
        {
            var logger = services.GetRequiredService<ILogger<SandboxLoggingTests>>();
            logger.LogInformation("dropped");
            logger.LogWarning("kept");
        }

        sink.Events.Select(e => e.MessageTemplate.Text).ShouldBe(["kept"]);
    }

    [Fact]
    public void Configure_SerilogSectionAtDebug_IsNotFilteredByMicrosoftExtensionsLogging()
    {
        // AddSerilog lets every level through to Serilog, so the Serilog section alone decides.
        var sink = new CollectingSink();
        using (var services = BuildLogging(SinkOnlyConfiguration("Debug"), sink))
        {
            services.GetRequiredService<ILogger<SandboxLoggingTests>>().LogDebug("detail");
        }

        sink.Events.Single().Level.ShouldBe(LogEventLevel.Debug);
    }

    [Fact]
    public void Configure_ClearsOtherProviders()
    {
        var sink = new CollectingSink();
        var services = new ServiceCollection()
            .AddLogging(logging =>
            {
                logging.AddProvider(new ThrowingProvider());
                SandboxLogging.Configure(logging, SinkOnlyConfiguration(), consoleToStderr: false, c => c.WriteTo.Sink(sink));
            })
            .BuildServiceProvider();
        using (services)
        {
            services.GetRequiredService<ILogger<SandboxLoggingTests>>().LogInformation("only serilog");
        }

        sink.Events.Count.ShouldBe(1);
    }

    [Fact]
    public void LogDirectory_Explicit_WinsOverTheDataDirectory()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Sandbox:LogDirectory"] = "/var/log/sandbox",
            ["Sandbox:DataDirectory"] = "/srv/sandbox",
        }).Build();

        SandboxLogging.LogDirectory(configuration).ShouldBe("/var/log/sandbox");
    }

    [Fact]
    public void LogDirectory_DataDirectoryOnly_IsItsLogsFolder()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Sandbox:DataDirectory"] = "/srv/sandbox",
        }).Build();

        SandboxLogging.LogDirectory(configuration).ShouldBe(Path.Join("/srv/sandbox", "logs"));
    }

    [Fact]
    public void LogDirectory_NothingConfigured_IsDataLogsUnderTheCurrentDirectory()
    {
        SandboxLogging.LogDirectory(new ConfigurationBuilder().Build()).ShouldBe(Path.Join("data", "logs"));
    }

    private static string Render(string template, LogEvent logEvent)
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        new MessageTemplateTextFormatter(template, CultureInfo.InvariantCulture).Format(logEvent, writer);
        return writer.ToString();
    }

    private sealed class ThrowingProvider : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => throw new InvalidOperationException("ClearProviders should have removed this provider");

        public void Dispose()
        {
        }
    }
}
