using Sandbox.Core.Runs;

namespace Sandbox.Core.Limits;

/// <summary>Applies a request's overrides to a profile's ceiling. Overrides may tighten, never loosen.</summary>
public static class LimitTightener
{
    /// <summary>Returns the effective limits, or the errors (one per offending field) when any override is out of range.</summary>
    public static (ResourceLimits? Effective, IReadOnlyList<FieldError> Errors) Apply(ResourceLimits ceiling, LimitOverrides? overrides)
    {
        if (overrides is null)
        {
            return (ceiling, []);
        }

        var errors = new List<FieldError>();
        var effective = ceiling with
        {
            WallTimeMs = Pick(LimitNames.WallTimeMs, overrides.WallTimeMs, ceiling.WallTimeMs, errors),
            CpuTimeMs = Pick(LimitNames.CpuTimeMs, overrides.CpuTimeMs, ceiling.CpuTimeMs, errors),
            MemoryBytes = Pick(LimitNames.MemoryBytes, overrides.MemoryBytes, ceiling.MemoryBytes, errors),
            Pids = (int)Pick(LimitNames.Pids, overrides.Pids, ceiling.Pids, errors),
            StdoutBytes = Pick(LimitNames.StdoutBytes, overrides.StdoutBytes, ceiling.StdoutBytes, errors),
            StderrBytes = Pick(LimitNames.StderrBytes, overrides.StderrBytes, ceiling.StderrBytes, errors),
            FileSizeBytes = Pick(LimitNames.FileSizeBytes, overrides.FileSizeBytes, ceiling.FileSizeBytes, errors),
            TmpBytes = Pick(LimitNames.TmpBytes, overrides.TmpBytes, ceiling.TmpBytes, errors),
        };
        return errors.Count == 0 ? (effective, []) : (null, errors);
    }

    /// <summary>The words every above-the-ceiling error carries, so the service can tell a permission problem from a typo.</summary>
    public const string AboveCeiling = "is above the profile's limit";

    private static long Pick(string name, long? requested, long ceiling, List<FieldError> errors)
    {
        if (requested is not { } value)
        {
            return ceiling;
        }

        if (value <= 0)
        {
            errors.Add(new FieldError($"limits.{name}", $"must be a positive number (got {value})"));
        }
        else if (value > ceiling)
        {
            errors.Add(new FieldError(
                $"limits.{name}",
                $"{value} {AboveCeiling} of {ceiling}; overrides may only tighten limits, so ask for at most {ceiling}"));
        }

        return value;
    }
}
