using System.Runtime.InteropServices;

namespace Sandbox.Wasm.Backend;

/// <summary>Where the WebAssembly worker and its sandboxing tools are, and how it is sized and watched.</summary>
public sealed record WasmWorkerOptions
{
    /// <summary>The worker's entry assembly; by default beside the service's own assemblies.</summary>
    public string WorkerAssembly { get; init; } = Path.Join(AppContext.BaseDirectory, "Sandbox.Wasm.Worker.dll");

    /// <summary>The .NET installation the worker runs on: the one the service runs on, so the two always match.</summary>
    public string DotnetRoot { get; init; } = DefaultDotnetRoot();

    public string Bubblewrap { get; init; } = "/usr/bin/bwrap";

    public string Setpriv { get; init; } = "/usr/bin/setpriv";

    /// <summary>Runs the launcher script (joins the cgroup, closes inherited descriptors, execs setpriv).</summary>
    public string Bash { get; init; } = "/bin/bash";

    /// <summary>The unprivileged user and group the worker runs as, on the host too (not only inside a user namespace).</summary>
    public int Uid { get; init; } = 65534;

    public int Gid { get; init; } = 65534;

    /// <summary>How long past the wall-clock deadline the service waits for the worker's own clean stop before it SIGKILLs it.</summary>
    public TimeSpan DeadlineGrace { get; init; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Longest gap between two reads of the run's CPU time (shorter near the limit).</summary>
    public TimeSpan CpuPollInterval { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// The worker's own memory beyond what the run's limits account for: the .NET runtime, our engine's code and
    /// working data. Measured: a worker running python-wasm's hello world peaks near 90 MiB above its guest's memory.
    /// </summary>
    public long RuntimeOverheadBytes { get; init; } = 128L * 1024 * 1024;

    /// <summary>
    /// Native memory beyond the managed heap's hard limit: JIT-compiled code (the IL tier's too), runtime data and the
    /// engine thread's stack, which deep guest recursion touches before the engine's call-depth trap.
    /// </summary>
    public long NativeHeadroomBytes { get; init; } = 320L * 1024 * 1024;

    /// <summary>
    /// Replaces the worker's command inside the same sandbox, cgroup and supervision: tests stand in a worker that dies,
    /// hangs or answers garbage, to show the service's side holds whatever the process does.
    /// </summary>
    internal IReadOnlyList<string>? CommandOverride { get; init; }

    /// <summary>Processes and threads the worker may have at once (the runtime's own threads included).</summary>
    public int Pids { get; init; } = 64;

    /// <summary>
    /// Warm workers kept per guest profile and limits (0: every run starts its worker cold). Each is a worker process,
    /// started ahead of time in its own cgroup, that has loaded the guest and run its start-up (CPython's interpreter
    /// start and imports) up to the first call that could see a run, and serves exactly one run. A profile's pool fills
    /// after its first run. The service sets this from <c>Sandbox:Wasm:WarmWorkers</c>; one-shot commands keep 0.
    /// </summary>
    public int WarmWorkers { get; init; }

    /// <summary>Warm workers across all profiles at once: each holds its guest's memory and a .NET runtime (about 100 MB for python-wasm).</summary>
    public int MaxWarmWorkers { get; init; } = 8;

    /// <summary>
    /// Whether warm workers start from a snapshot: the first worker of a key runs the guest's start-up and captures it at
    /// the gate; later ones restore it instead (a process start and a copy of memory rather than CPython's start-up).
    /// </summary>
    public bool WarmSnapshots { get; init; } = true;

    /// <summary>
    /// How many warm workers restore one snapshot before a new one is taken: they share what the start-up drew at random
    /// (CPython's str hash secret), so a generation is bounded in runs and in <see cref="SnapshotMaxAge"/>.
    /// </summary>
    public int SnapshotMaxRuns { get; init; } = 64;

    /// <summary>How long one snapshot is restored before a new one is taken (see <see cref="SnapshotMaxRuns"/>).</summary>
    public TimeSpan SnapshotMaxAge { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a warm worker may take to pre-initialise before it is killed and dropped.</summary>
    public TimeSpan PrepareTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Room in a warm worker's heap limit for the run's request (code, stdin, files), fixed when it starts because the
    /// runtime's limit cannot change later; a larger request starts a cold worker sized for it.
    /// </summary>
    public long WarmRequestAllowanceBytes { get; init; } = 8L * 1024 * 1024;

    private static string DefaultDotnetRoot()
    {
        // .../shared/Microsoft.NETCore.App/<version>/ → the installation root three levels up.
        var runtime = RuntimeEnvironment.GetRuntimeDirectory().TrimEnd('/');
        return Path.GetFullPath(Path.Join(runtime, "..", "..", ".."));
    }
}
