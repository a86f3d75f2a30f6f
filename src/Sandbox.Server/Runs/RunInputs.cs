using Sandbox.Core.Execution;
using Sandbox.Core.Limits;
using Sandbox.Core.Runs;

namespace Sandbox.Server.Runs;

/// <summary>
/// What a replay needs of a run, kept beside its row for the retention period (<c>run_inputs</c>): the request as
/// admitted (code, stdin and files, within the request caps) and the plan its receipt recorded: profile, backend,
/// runtime, limits and the digest of the image or module that ran it.
/// </summary>
public sealed record RunInputs
{
    public required RunRequest Request { get; init; }

    public required string Profile { get; init; }

    public required string Backend { get; init; }

    public required string Runtime { get; init; }

    public required ResourceLimits Limits { get; init; }

    /// <summary>The image's content id (Docker) or the module's SHA-256 (WebAssembly), as in the receipt.</summary>
    public string? ArtifactDigest { get; init; }

    /// <summary>
    /// Set only on a run offered to every node, when its caller asked for raw output: the node that claims it answers in that
    /// form. Null otherwise (a replay or a takeover answers without it, as before).
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] // every other run's inputs stay as they were
    public bool? RawOutput { get; init; }

    public static RunInputs Of(RunPlan plan) => new()
    {
        Request = plan.Request,
        Profile = plan.Profile.Name,
        Backend = plan.Backend,
        Runtime = plan.Runtime,
        Limits = plan.Limits,
        ArtifactDigest = plan.ArtifactDigest,
    };
}
