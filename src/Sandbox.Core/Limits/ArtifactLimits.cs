namespace Sandbox.Core.Limits;

/// <summary>
/// How much of what a program leaves under <c>/tmp/outputs</c> comes back with its result. Past a cap a file is dropped
/// (and named, with the reason, in <c>artifactsDropped</c>), never cut short: a half PNG or CSV would mislead.
/// </summary>
/// <param name="MaxFiles">Most files returned; 0 turns artifacts off for the profile (no <c>/tmp/outputs</c> step after the program).</param>
/// <param name="MaxFileBytes">Largest single file returned, in bytes.</param>
/// <param name="MaxTotalBytes">Largest total of the files returned, in bytes.</param>
/// <remarks>
/// A constructor with defaults, not init properties: the profiles reader then keeps the default of a cap the file leaves
/// out (<c>{"maxFiles": 0}</c> turns artifacts off without zeroing the byte caps).
/// </remarks>
public sealed record ArtifactLimits(int MaxFiles = 32, long MaxFileBytes = 4L * 1024 * 1024, long MaxTotalBytes = 8L * 1024 * 1024)
{
    /// <summary>The defaults: a few plots and tables per run, small enough to keep in the store for the retention period.</summary>
    public static ArtifactLimits Default { get; } = new();
}
