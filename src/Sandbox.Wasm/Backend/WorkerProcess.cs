using System.Diagnostics;
using System.Text;
using Sandbox.Core.Errors;

namespace Sandbox.Wasm.Backend;

/// <summary>
/// One started worker: the process in its sandbox (<see cref="WorkerLauncher"/>), its own cgroup, and the tail of its
/// own stderr. Started for one run, or ahead of time as a warm worker (<see cref="WarmWorkerPool"/>); either way it
/// serves exactly one run and is killed with its cgroup when disposed.
/// </summary>
internal sealed class WorkerProcess : IDisposable
{
    /// <summary>Bytes of a worker's own stderr kept for the log when it fails.</summary>
    private const int DiagnosticsBytes = 4096;

    private WorkerProcess(Process process, WorkerCgroup cgroup, long startedTimestamp)
    {
        Process = process;
        Cgroup = cgroup;
        StartedTimestamp = startedTimestamp;
        Diagnostics = ReadDiagnosticsAsync(process);
    }

    public Process Process { get; }

    public WorkerCgroup Cgroup { get; }

    /// <summary>When the process was started (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    public long StartedTimestamp { get; }

    /// <summary>The last few KiB of the worker's own stderr (runtime failures, never the guest's output), once it has ended.</summary>
    public Task<string> Diagnostics { get; }

    /// <summary>Makes the cgroup and starts the worker inside it.</summary>
    /// <exception cref="SandboxInfrastructureException">The cgroup could not be made or the process could not start.</exception>
    public static WorkerProcess Start(WasmWorkerOptions options, CgroupLayout layout, string name, long cgroupLimitBytes, long heapLimitBytes, IReadOnlyList<string> preopens, TimeProvider time)
    {
        WorkerCgroup cgroup;
        try
        {
            // Unique even if a name were reused (a retry, a replay, tests): another run's cleanup must never kill this worker.
            cgroup = WorkerCgroup.Create(layout, name + "-" + Guid.NewGuid().ToString("N")[..8], cgroupLimitBytes, options.Pids);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SandboxInfrastructureException("the WebAssembly worker's cgroup could not be made (the service must run as root on a host with cgroup memory, cpu and pids controllers)", e);
        }

        var started = time.GetTimestamp();
        var process = new Process { StartInfo = WorkerLauncher.StartInfo(options, cgroup, preopens, heapLimitBytes, options.CommandOverride) };
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            process.Dispose();
            cgroup.Dispose();
            throw new SandboxInfrastructureException("the WebAssembly worker could not be started; run 'sandbox doctor'", e);
        }

        return new WorkerProcess(process, cgroup, started);
    }

    /// <summary>Kills everything in the cgroup and removes it.</summary>
    public void Dispose()
    {
        Cgroup.KillAll();
        Process.Dispose();
        Cgroup.Dispose();
    }

    private static async Task<string> ReadDiagnosticsAsync(Process process)
    {
        var buffer = new char[DiagnosticsBytes];
        var kept = new StringBuilder();
        try
        {
            int read;
            while ((read = await process.StandardError.ReadAsync(buffer, CancellationToken.None).ConfigureAwait(false)) > 0)
            {
                kept.Append(buffer, 0, read);
                if (kept.Length > DiagnosticsBytes)
                {
                    kept.Remove(0, kept.Length - DiagnosticsBytes);
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }

        return kept.ToString();
    }
}
