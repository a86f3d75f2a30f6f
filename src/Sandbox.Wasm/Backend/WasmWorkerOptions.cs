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

    private static string DefaultDotnetRoot()
    {
        // .../shared/Microsoft.NETCore.App/<version>/ → the installation root three levels up.
        var runtime = RuntimeEnvironment.GetRuntimeDirectory().TrimEnd('/');
        return Path.GetFullPath(Path.Join(runtime, "..", "..", ".."));
    }
}
