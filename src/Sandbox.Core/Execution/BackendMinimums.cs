namespace Sandbox.Core.Execution;

/// <summary>
/// The least a backend needs of a run's limits to start the program at all. Requests and profiles are checked
/// against these when they are validated, so a limit too small to start with is <c>rejected</c> naming the field
/// and the allowed range, never a <c>sandbox_error</c> from the runtime or a <c>runtime_error</c> for a program
/// that never ran.
/// </summary>
public sealed record BackendMinimums
{
    /// <summary>No minimums beyond the limits being positive.</summary>
    public static BackendMinimums None { get; } = new();

    /// <summary>Least <c>memoryBytes</c>: the runtime's own minimum or the guest's initial memory.</summary>
    public long MemoryBytes { get; init; } = 1;

    /// <summary>What the least <c>memoryBytes</c> is for, said in the rejection (such as "Docker's minimum").</summary>
    public string MemoryReason { get; init; } = "the backend's minimum";

    /// <summary>Least <c>fileSizeBytes</c>; each input file (and the code, when it is written as a file) must fit as well.</summary>
    public long FileSizeBytes { get; init; } = 1;

    /// <summary>Least <c>tmpBytes</c>; the input files, each rounded up to <see cref="TmpBlockBytes"/>, must fit as well.</summary>
    public long TmpBytes { get; init; } = 1;

    /// <summary>The unit <c>/tmp</c> allocates in: a tmpfs takes a whole page per file, an in-memory /tmp the exact bytes.</summary>
    public long TmpBlockBytes { get; init; } = 1;
}
