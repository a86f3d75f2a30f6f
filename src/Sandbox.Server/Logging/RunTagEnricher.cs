using Serilog.Core;
using Serilog.Events;
using Serilog.Parsing;

namespace Sandbox.Server.Logging;

/// <summary>
/// Adds <c>RunTag</c>, the event's <c>RunId</c> followed by a space, so an output template can write
/// <c>{RunTag:l}{Message}</c>: lines about a run start with its id, other lines have no empty gap or dangling separator.
/// </summary>
/// <remarks>
/// The <c>RunId</c> usually comes from an ILogger scope; Serilog.Extensions.Logging adds scope properties
/// before the logger's enrichers run, so this enricher sees them. When the message itself names
/// <c>{RunId}</c> (<c>"Run {RunId} accepted"</c>) the tag stays empty, so the id is not printed twice.
/// </remarks>
internal sealed class RunTagEnricher : ILogEventEnricher
{
    public const string RunIdProperty = "RunId";
    public const string RunTagProperty = "RunTag";

    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        ArgumentNullException.ThrowIfNull(propertyFactory);
        var tag = logEvent.Properties.TryGetValue(RunIdProperty, out var value)
            && value is ScalarValue { Value: { } runId }
            && !NamesRunId(logEvent.MessageTemplate)
                ? runId + " "
                : string.Empty;
        logEvent.AddPropertyIfAbsent(propertyFactory.CreateProperty(RunTagProperty, tag));
    }

    private static bool NamesRunId(MessageTemplate template)
    {
        // Templates are parsed once and cached by Serilog; their few tokens are cheap to walk.
        foreach (var token in template.Tokens)
        {
            if (token is PropertyToken { PropertyName: RunIdProperty })
            {
                return true;
            }
        }

        return false;
    }
}
