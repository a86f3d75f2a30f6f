namespace Sandbox.Core.Limits;

/// <summary>
/// How much of what a program leaves under <c>/tmp/outputs</c> comes back with its result. Past a cap a file is dropped
/// (and named, with the reason, in <c>artifactsDropped</c>), never cut short: a half PNG or CSV would mislead.
/// </summary>
public sealed record ArtifactLimits
{
    /// <summary>The defaults: a few plots and tables per run, small enough to keep in the store for the retention period.</summary>
    public static ArtifactLimits Default { get; } = new();

    /// <summary>Most files returned; 0 turns artifacts off for the profile (no <c>/tmp/outputs</c> step after the program).</summary>
    public int MaxFiles { get; init; } = 32;

    /// <summary>Largest single file returned, in bytes.</summary>
    public long MaxFileBytes { get; init; } = 4L * 1024 * 1024;

    /// <summary>Largest total of the files returned, in bytes.</summary>
    public long MaxTotalBytes { get; init; } = 8L * 1024 * 1024;
}
