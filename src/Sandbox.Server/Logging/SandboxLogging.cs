using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Events;
using Serilog.Settings.Configuration;

namespace Sandbox.Server.Logging;

/// <summary>
/// Makes Serilog the only logging provider, through Serilog.Extensions.Logging (Serilog.AspNetCore and
/// Serilog.Extensions.Hosting are not on our package mirror).
/// </summary>
/// <remarks>
/// <para>
/// What is logged: code, stdin, files and API keys are never logged at Information level or above, by any
/// caller; a run is identified by its id, language, profile, status and sizes. The program's output is
/// hostile text and goes to logs only sanitised (see <c>Output/OutputSanitizer</c>) and only at Debug.
/// </para>
/// <para>
/// Every line about a run carries its id: callers open
/// <c>logger.BeginScope(new Dictionary&lt;string, object&gt; { ["RunId"] = id })</c>, Serilog.Extensions.Logging
/// turns the scope into a <c>RunId</c> property, and <see cref="RunTagEnricher"/> puts it at the start of the line.
/// </para>
/// <para>
/// Every event is one line: <see cref="EscapingEnricher"/> escapes newlines, escape sequences and hidden
/// characters in every property value, whichever sink renders it, so a request cannot forge or hide a line.
/// </para>
/// </remarks>
internal static class SandboxLogging
{
    /// <summary>The console line: time, level, the run id when there is one, the message.</summary>
    public const string ConsoleTemplate = "[{Timestamp:HH:mm:ss} {Level:u3}] {RunTag:l}{Message:lj}{NewLine}{Exception}";

    /// <summary>The file line: also the date, the offset and the component, for reading a day's log later.</summary>
    public const string FileTemplate = "{Timestamp:yyyy-MM-dd HH:mm:ss.fff zzz} [{Level:u3}] {RunTag:l}{SourceContext}: {Message:lj}{NewLine}{Exception}";

    /// <summary>The days of log files kept; the file sink rolls daily and deletes older files.</summary>
    public const int RetainedFiles = 14;

    /// <summary>
    /// Clears the other providers and adds Serilog, configured from the <c>Serilog</c> section when there is
    /// one, else with our defaults: Information (Microsoft.* and System.* at Warning), the console, and a
    /// daily file under <c>Sandbox:LogDirectory</c> (default <c>&lt;Sandbox:DataDirectory or ./data&gt;/logs</c>).
    /// </summary>
    /// <param name="logging">The host's logging builder.</param>
    /// <param name="configuration">The host's configuration: the <c>Serilog</c> section and <c>Sandbox:LogDirectory</c>/<c>Sandbox:DataDirectory</c>.</param>
    /// <param name="consoleToStderr">
    /// True for the MCP stdio server, whose stdout carries the protocol: every console line then goes to
    /// stderr, including those of console sinks the <c>Serilog</c> section configures.
    /// </param>
    public static void Configure(ILoggingBuilder logging, IConfiguration configuration, bool consoleToStderr) =>
        Configure(logging, configuration, consoleToStderr, customize: null);

    /// <summary>As <see cref="Configure(ILoggingBuilder, IConfiguration, bool)"/>; <paramref name="customize"/> lets tests add a sink.</summary>
    internal static void Configure(ILoggingBuilder logging, IConfiguration configuration, bool consoleToStderr, Action<LoggerConfiguration>? customize)
    {
        ArgumentNullException.ThrowIfNull(logging);
        var loggerConfiguration = CreateLoggerConfiguration(configuration, consoleToStderr);
        customize?.Invoke(loggerConfiguration);
        logging.ClearProviders();

        // dispose: true so the host's shutdown flushes and closes the file sink.
        logging.AddSerilog(loggerConfiguration.CreateLogger(), dispose: true);
    }

    /// <summary>The Serilog configuration <see cref="Configure(ILoggingBuilder, IConfiguration, bool)"/> builds a logger from.</summary>
    internal static LoggerConfiguration CreateLoggerConfiguration(IConfiguration configuration, bool consoleToStderr)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var loggerConfiguration = new LoggerConfiguration()
            .Enrich.FromLogContext()
            .Enrich.With<RunTagEnricher>()
            // Last, so it sees every property the others added: each value from a request is escaped onto the event's one line.
            .Enrich.With<EscapingEnricher>();

        if (configuration.GetSection("Serilog").Exists())
        {
            // Naming the sink assemblies spares the DependencyContext scan, which finds nothing in a single-file publish.
            var options = new ConfigurationReaderOptions(
                typeof(ConsoleLoggerConfigurationExtensions).Assembly,
                typeof(FileLoggerConfigurationExtensions).Assembly);
            return loggerConfiguration.ReadFrom.Configuration(consoleToStderr ? WithConsoleOnStderr(configuration) : configuration, options);
        }

        return loggerConfiguration
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .MinimumLevel.Override("System", LogEventLevel.Warning)
            // "Now listening on ..." and "Application started" are worth seeing at start-up.
            .MinimumLevel.Override("Microsoft.Hosting.Lifetime", LogEventLevel.Information)
            .WriteTo.Console(
                outputTemplate: ConsoleTemplate,
                formatProvider: System.Globalization.CultureInfo.InvariantCulture,
                standardErrorFromLevel: consoleToStderr ? LogEventLevel.Verbose : null)
            .WriteTo.File(
                Path.Join(LogDirectory(configuration), "sandbox-.log"),
                outputTemplate: FileTemplate,
                formatProvider: System.Globalization.CultureInfo.InvariantCulture,
                rollingInterval: RollingInterval.Day,
                retainedFileCountLimit: RetainedFiles);
    }

    /// <summary><c>Sandbox:LogDirectory</c>, else <c>logs</c> under the data folder (<c>Sandbox:DataDirectory</c>, <c>$SANDBOX_DATA</c>, <c>./data</c>).</summary>
    internal static string LogDirectory(IConfiguration configuration)
    {
        if (configuration["Sandbox:LogDirectory"] is { Length: > 0 } explicitDirectory)
        {
            return explicitDirectory;
        }

        var dataDirectory = Guard.Store.GuardPaths.ResolveDataDirectory(configuration["Sandbox:DataDirectory"]);
        return Path.Join(dataDirectory, "logs");
    }

    /// <summary>
    /// The configuration with <c>standardErrorFromLevel: Verbose</c> set on every <c>Console</c> entry of
    /// <c>Serilog:WriteTo</c> (array or object form), so an operator's settings cannot put log lines on the
    /// MCP server's stdout and corrupt the protocol. Sinks nested inside wrapper sinks are not rewritten.
    /// </summary>
    private static IConfiguration WithConsoleOnStderr(IConfiguration configuration)
    {
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var sink in configuration.GetSection("Serilog:WriteTo").GetChildren())
        {
            var name = sink["Name"] ?? sink.Value;
            if (string.Equals(name, "Console", StringComparison.OrdinalIgnoreCase))
            {
                if (sink.Value is not null)
                {
                    // The short form "WriteTo": ["Console"] has no Args to extend: replace the entry with the long form.
                    overrides[sink.Path] = null;
                    overrides[$"{sink.Path}:Name"] = "Console";
                }

                overrides[$"{sink.Path}:Args:standardErrorFromLevel"] = nameof(LogEventLevel.Verbose);
            }
        }

        return overrides.Count == 0
            ? configuration
            : new ConfigurationBuilder().AddConfiguration(configuration).AddInMemoryCollection(overrides).Build();
    }
}
