// The tests log ad-hoc messages to see what the sinks receive; [LoggerMessage] methods per message would only hide that.
#pragma warning disable CA1848, CA1873

using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sandbox.Server.Logging;

namespace Sandbox.Server.Tests.Logging;

[Collection(nameof(ConsoleRedirection))]
public sealed class SandboxLoggingConsoleTests : IDisposable
{
    private readonly string _logDirectory = Directory.CreateTempSubdirectory("sandbox-logging-tests-").FullName;

    public void Dispose() => Directory.Delete(_logDirectory, recursive: true);

    [Fact]
    public void Configure_Defaults_WriteInformationToStdoutWithTheRunId()
    {
        var (stdout, stderr) = Capture(Defaults(), consoleToStderr: false, logger =>
        {
            using (logger.BeginScope(new Dictionary<string, object> { ["RunId"] = "run_abc" }))
            {
                logger.LogInformation("started {Language}", "python");
            }

            logger.LogInformation("idle");
            logger.LogDebug("not at the default level");
        });

        stderr.ShouldBeEmpty();
        var lines = stdout.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        lines.Length.ShouldBe(2);
        lines[0].ShouldMatch(@"^\[\d\d:\d\d:\d\d INF\] run_abc started python$");
        lines[1].ShouldMatch(@"^\[\d\d:\d\d:\d\d INF\] idle$");
    }

    [Fact]
    public void Configure_Defaults_MicrosoftCategoriesOnlyFromWarning()
    {
        var (stdout, _) = Capture(Defaults(), consoleToStderr: false, logger => { }, factory =>
        {
            factory.CreateLogger("Microsoft.AspNetCore.Routing").LogInformation("routing chatter");
            factory.CreateLogger("System.Net.Http.HttpClient").LogInformation("http chatter");
            factory.CreateLogger("Microsoft.AspNetCore.Server").LogWarning("server warning");
            factory.CreateLogger("Microsoft.Hosting.Lifetime").LogInformation("Now listening");
        });

        stdout.ShouldNotContain("chatter");
        stdout.ShouldContain("server warning");
        stdout.ShouldContain("Now listening");
    }

    [Fact]
    public void Configure_DefaultsWithConsoleToStderr_WriteNothingToStdout()
    {
        var (stdout, stderr) = Capture(Defaults(), consoleToStderr: true, logger =>
        {
            logger.LogInformation("info line");
            logger.LogError("error line");
        });

        stdout.ShouldBeEmpty();
        stderr.ShouldContain("info line");
        stderr.ShouldContain("error line");
    }

    [Theory]
    [InlineData("array")]
    [InlineData("short")]
    [InlineData("object")]
    public void Configure_SerilogSectionConsoleWithConsoleToStderr_IsForcedOntoStderr(string form)
    {
        var settings = new Dictionary<string, string?> { ["Serilog:MinimumLevel:Default"] = "Information" };
        switch (form)
        {
            case "array":
                settings["Serilog:WriteTo:0:Name"] = "Console";
                settings["Serilog:WriteTo:0:Args:outputTemplate"] = "{Message:lj}{NewLine}";
                break;
            case "short":
                settings["Serilog:WriteTo:0"] = "Console";
                break;
            default:
                settings["Serilog:WriteTo:Screen:Name"] = "Console";
                break;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

        var (stdout, stderr) = Capture(configuration, consoleToStderr: true, logger => logger.LogInformation("protocol-safe"));

        stdout.ShouldBeEmpty();
        stderr.ShouldContain("protocol-safe");
    }

    [Fact]
    public void Configure_SerilogSectionConsoleWithoutConsoleToStderr_WritesToStdout()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Serilog:WriteTo:0:Name"] = "Console",
        }).Build();

        var (stdout, stderr) = Capture(configuration, consoleToStderr: false, logger => logger.LogInformation("to stdout"));

        stdout.ShouldContain("to stdout");
        stderr.ShouldBeEmpty();
    }

    [Fact]
    public void Configure_Defaults_WriteADailyFileUnderTheLogDirectory()
    {
        Capture(Defaults(), consoleToStderr: true, logger =>
        {
            using (logger.BeginScope(new Dictionary<string, object> { ["RunId"] = "run_file" }))
            {
                logger.LogWarning("to the file");
            }
        });

        var file = Directory.GetFiles(_logDirectory, "sandbox-*.log").ShouldHaveSingleItem();
        Path.GetFileName(file).ShouldMatch(@"^sandbox-\d{8}\.log$");
        File.ReadAllText(file).ShouldMatch(
            $@"^\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{{3}} [+-]\d\d:\d\d \[WRN\] run_file {typeof(SandboxLoggingConsoleTests).FullName}: to the file\n$");
    }

    [Fact]
    public void Configure_SerilogSectionWithFileSinkAndEnricher_IsRead()
    {
        var path = Path.Join(_logDirectory, "configured.log");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Serilog:Enrich:0"] = "FromLogContext",
            ["Serilog:WriteTo:0:Name"] = "File",
            ["Serilog:WriteTo:0:Args:path"] = path,
            ["Serilog:WriteTo:0:Args:outputTemplate"] = "{RunTag:l}{Message:lj}{NewLine}",
        }).Build();

        var (stdout, stderr) = Capture(configuration, consoleToStderr: true, logger =>
        {
            using (logger.BeginScope(new Dictionary<string, object> { ["RunId"] = "run_cfg" }))
            {
                logger.LogInformation("configured");
            }
        });

        stdout.ShouldBeEmpty();
        stderr.ShouldBeEmpty();
        File.ReadAllText(path).ShouldBe("run_cfg configured\n");
    }

    private IConfiguration Defaults() =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Sandbox:LogDirectory"] = _logDirectory,
        }).Build();

    /// <summary>Logs through a real Configure with the console swapped for writers; disposing the provider flushes the sinks.</summary>
    private static (string Stdout, string Stderr) Capture(
        IConfiguration configuration, bool consoleToStderr, Action<ILogger> log, Action<ILoggerFactory>? logFactory = null)
    {
        var originalOut = Console.Out;
        var originalError = Console.Error;
        using var stdout = new StringWriter(CultureInfo.InvariantCulture);
        using var stderr = new StringWriter(CultureInfo.InvariantCulture);
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            using var services = new ServiceCollection()
                .AddLogging(logging => SandboxLogging.Configure(logging, configuration, consoleToStderr))
                .BuildServiceProvider();
            log(services.GetRequiredService<ILogger<SandboxLoggingConsoleTests>>());
            logFactory?.Invoke(services.GetRequiredService<ILoggerFactory>());
        }
        finally
        {
            Console.SetOut(originalOut);
            Console.SetError(originalError);
        }

        return (stdout.ToString(), stderr.ToString());
    }
}
