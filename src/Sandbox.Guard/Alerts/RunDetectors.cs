namespace Sandbox.Guard.Alerts;

// PLACEHOLDER until the guard-alerts branch lands; replaced by the real detectors.
public sealed class RunDetectors(AlertOptions options)
{
    public IReadOnlyList<Alert> OnAdmitted(RunObservation run) => options.LoopThreshold < 0 ? [] : [];

    public IReadOnlyList<Alert> OnCompleted(RunObservation run) => options.LoopThreshold < 0 ? [] : [];
}
