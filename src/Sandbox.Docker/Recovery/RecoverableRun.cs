using Sandbox.Core.Limits;
using Sandbox.Docker.Client;

namespace Sandbox.Docker.Recovery;

/// <summary>A run found by its containers' labels at start-up (see <see cref="IContainerRecovery.FindAsync"/>).</summary>
public sealed record RecoverableRun
{
    public required string RunId { get; init; }

    /// <summary>Its containers (a compile step's and a run step's at most).</summary>
    public IReadOnlyList<ContainerSummary> Containers { get; init; } = [];

    /// <summary>Its run step still runs: recovering it means following it to its end (at most its deadline).</summary>
    public bool Running { get; init; }

    /// <summary>The run step's limits from its label, when it has one: the CPU its slot reserves while it is followed.</summary>
    public ResourceLimits? Limits { get; init; }
}
