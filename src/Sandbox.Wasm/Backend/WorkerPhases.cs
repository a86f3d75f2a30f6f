using System.Globalization;

namespace Sandbox.Wasm.Backend;

/// <summary>
/// Where a worker's time went, measured inside the worker: wall time and the process's CPU time (every thread, the
/// runtime's JIT included) per phase, in milliseconds to a tenth. For the service's debug log and the README's
/// breakdown, never for a decision (the worker is not trusted beyond its frames' bounds).
/// </summary>
internal sealed record WorkerPhases
{
    /// <summary>From the worker's entry until the request and the module were read off the pipe.</summary>
    public WorkerPhase Read { get; init; }

    /// <summary>Decoding, validating and translating the module.</summary>
    public WorkerPhase Compile { get; init; }

    /// <summary>A warm worker's guest start-up up to its first run-visible call; null for a cold worker.</summary>
    public WorkerPhase? PreInit { get; init; }

    /// <summary>A warm worker's wait, parked, for its run; null for a cold worker.</summary>
    public WorkerPhase? Parked { get; init; }

    /// <summary>The run itself: from the claim (warm) or from the end of compiling (cold) until the guest ended.</summary>
    public WorkerPhase Run { get; init; }

    /// <summary>One line for the log: each phase as wall/CPU milliseconds.</summary>
    public string Describe() => string.Join(", ", new (string Name, WorkerPhase? Phase)[]
        {
            ("read", Read), ("compile", Compile), ("pre-init", PreInit), ("parked", Parked), ("run", Run),
        }
        .Where(p => p.Phase is not null)
        .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Name} {p.Phase!.Value.WallMs}/{p.Phase.Value.CpuMs}")));
}

/// <summary>One phase: wall time and the worker process's CPU time, in milliseconds.</summary>
internal readonly record struct WorkerPhase(double WallMs, double CpuMs);
