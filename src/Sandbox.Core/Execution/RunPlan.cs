using Sandbox.Core.Limits;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;

namespace Sandbox.Core.Execution;

/// <summary>
/// The effective plan of one run, fixed before anything starts: it is the receipt of what will be
/// enforced. Backends execute exactly this and nothing the request says directly.
/// </summary>
public sealed record RunPlan
{
    public required string RunId { get; init; }

    public required RunRequest Request { get; init; }

    public required Profile Profile { get; init; }

    /// <summary>The profile's limits tightened by the request's overrides.</summary>
    public required ResourceLimits Limits { get; init; }

    /// <summary>The container runtime that will run it (the profile's, or a stronger one the caller asked for).</summary>
    public required string Runtime { get; init; }

    public string Backend => Profile.Backend;

    /// <summary>
    /// What exactly runs the code, resolved before the receipt is written: for Docker the image's content id
    /// (<c>sha256:…</c>), which the backend then runs instead of the profile's tag; for WebAssembly the guest module's
    /// SHA-256. Null when it could not be resolved (the run then uses the profile's tag, and the receipt says null).
    /// </summary>
    public string? ArtifactDigest { get; init; }

    /// <summary>Where output goes as it arrives, besides the result; not part of the receipt.</summary>
    public IRunOutputSink? Output { get; init; }

    /// <summary>For a cell of a session: the session that runs it instead of a fresh sandbox; null for a run of its own.</summary>
    public IExecutionSession? Session { get; init; }
}
