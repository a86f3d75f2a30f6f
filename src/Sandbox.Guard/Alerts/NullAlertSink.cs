namespace Sandbox.Guard.Alerts;

/// <summary>The sink when no webhook is configured: alerts go only to the audit log and the log file.</summary>
public sealed class NullAlertSink : IAlertSink
{
    public static NullAlertSink Instance { get; } = new();

    /// <inheritdoc />
    public void Publish(Alert alert) => ArgumentNullException.ThrowIfNull(alert);
}
