using System.Globalization;
using Sandbox.Core.Isolation;

namespace Sandbox.Wasm.Backend;

/// <summary>
/// One WebAssembly run's own cgroup (<c>/sandbox-wasm/&lt;run id&gt;</c>), made by the service (root) before the
/// worker starts and joined by the worker's launcher before it execs anything, so every byte and every cycle the
/// worker spends (runtime start-up, compiling, the guest, the IL tier's JIT) is charged and capped here by the
/// kernel. cgroup v1 (memory, cpu, cpuacct, pids hierarchies) and v2 (one unified tree).
/// </summary>
internal sealed class WorkerCgroup : IDisposable
{
    /// <summary>The parent of every run's cgroup, in each hierarchy.</summary>
    public const string ParentName = "sandbox-wasm";

    private readonly string[] _dirs;
    private readonly string _cpuDir;
    private readonly string _memoryDir;
    private readonly string? _pidsDir;
    private readonly bool _isV2;

    private WorkerCgroup(string[] dirs, string cpuDir, string memoryDir, string? pidsDir, bool isV2)
    {
        _dirs = dirs;
        _cpuDir = cpuDir;
        _memoryDir = memoryDir;
        _pidsDir = pidsDir;
        _isV2 = isV2;
    }

    /// <summary>
    /// Lowers (or restores) the worker's CPU weight: a parked warm worker's own work (translating ahead of its run) then
    /// takes only the CPU that claimed runs leave, instead of competing with them on a small host. Weight only, never the
    /// quota: the worker's CPU cap is unchanged either way.
    /// </summary>
    public void SetBackground(bool background)
    {
        var (file, value) = _isV2 ? ("cpu.weight", background ? "1" : "100") : ("cpu.shares", background ? "2" : "1024");
        foreach (var path in _dirs.Select(d => Path.Join(d, file)).Where(File.Exists))
        {
            CgroupFiles.TryWrite(path, value);
        }
    }

    /// <summary>The worker's CPU weight as the kernel has it (<c>cpu.weight</c>, or <c>cpu.shares</c> on v1); null when unreadable.</summary>
    public string? CpuWeight() =>
        _dirs.Select(d => CgroupFiles.TryRead(Path.Join(d, _isV2 ? "cpu.weight" : "cpu.shares"))).FirstOrDefault(v => v is not null)?.Trim();

    /// <summary>The <c>cgroup.procs</c> files the launcher writes its own pid into, one per hierarchy.</summary>
    public IReadOnlyList<string> ProcsFiles => [.. _dirs.Select(d => Path.Join(d, "cgroup.procs"))];

    /// <summary>The controllers' mount points, or null when this host has none we can use (the backend then refuses to run: fail closed).</summary>
    public static CgroupLayout? Detect(string mountsFile = "/proc/self/mounts")
    {
        var mounts = CgroupMounts.Read(mountsFile);
        string? memory = CgroupMounts.V1(mounts, "memory"), cpu = CgroupMounts.V1(mounts, "cpu"), cpuacct = CgroupMounts.V1(mounts, "cpuacct");
        if (memory is not null && cpu is not null && cpuacct is not null)
        {
            return new CgroupLayout(memory, cpu, cpuacct, CgroupMounts.V1(mounts, "pids"), IsV2: false);
        }

        return CgroupMounts.Unified(mounts) is { } unified ? new CgroupLayout(unified, unified, unified, unified, IsV2: true) : null;
    }

    /// <summary>
    /// Creates the run's cgroup with its limits: memory (no swap on top), one CPU's worth of quota, and pids.
    /// </summary>
    /// <exception cref="IOException">The cgroup could not be made or limited (not root, or the controller is missing).</exception>
    public static WorkerCgroup Create(CgroupLayout layout, string runId, long memoryBytes, int pids)
    {
        var name = Path.Join(ParentName, runId);
        if (layout.IsV2)
        {
            var parent = Path.Join(layout.Memory, ParentName);
            Directory.CreateDirectory(parent);
            // Controllers must be enabled on every level above the run's cgroup for its limit files to exist.
            CgroupFiles.TryWrite(Path.Join(layout.Memory, "cgroup.subtree_control"), "+memory +cpu +pids");
            CgroupFiles.TryWrite(Path.Join(parent, "cgroup.subtree_control"), "+memory +cpu +pids");
            var dir = Path.Join(layout.Memory, name);
            Directory.CreateDirectory(dir);
            var cgroup = new WorkerCgroup([dir], dir, dir, dir, isV2: true);
            try
            {
                Write(Path.Join(dir, "memory.max"), Decimal(memoryBytes));
                CgroupFiles.TryWrite(Path.Join(dir, "memory.swap.max"), "0");
                Write(Path.Join(dir, "cpu.max"), "100000 100000");
                Write(Path.Join(dir, "pids.max"), Decimal(pids));
            }
            catch
            {
                cgroup.Dispose();
                throw;
            }

            return cgroup;
        }

        var roots = new[] { layout.Memory, layout.Cpu, layout.CpuAcct, layout.Pids }.OfType<string>().Distinct(StringComparer.Ordinal);
        var dirs = roots.Select(r => Path.Join(r, name)).ToArray();
        foreach (var dir in dirs)
        {
            Directory.CreateDirectory(dir);
        }

        var v1 = new WorkerCgroup(dirs, Path.Join(layout.CpuAcct, name), Path.Join(layout.Memory, name), layout.Pids is null ? null : Path.Join(layout.Pids, name), isV2: false);
        try
        {
            Write(Path.Join(v1._memoryDir, "memory.limit_in_bytes"), Decimal(memoryBytes));
            // With swap accounting the combined limit must match, or the worker could spill into swap (no-op without swap).
            CgroupFiles.TryWrite(Path.Join(v1._memoryDir, "memory.memsw.limit_in_bytes"), Decimal(memoryBytes));
            var cpuDir = Path.Join(layout.Cpu, name);
            Write(Path.Join(cpuDir, "cpu.cfs_period_us"), "100000");
            Write(Path.Join(cpuDir, "cpu.cfs_quota_us"), "100000");
            if (v1._pidsDir is { } pidsDir)
            {
                Write(Path.Join(pidsDir, "pids.max"), Decimal(pids));
            }
        }
        catch
        {
            v1.Dispose();
            throw;
        }

        return v1;
    }

    /// <summary>
    /// Removes run cgroups left by a supervisor that died (its workers died with it: bwrap --die-with-parent), so they do
    /// not pile up. Only empty ones older than <paramref name="olderThan"/>: rmdir refuses a cgroup with processes, and the
    /// age keeps a cgroup another service just made, before its worker joined, out of reach.
    /// </summary>
    public static int SweepStale(CgroupLayout layout, TimeSpan olderThan, TimeProvider time)
    {
        var removed = 0;
        var cutoff = time.GetUtcNow().UtcDateTime - olderThan;
        foreach (var root in new[] { layout.Memory, layout.Cpu, layout.CpuAcct, layout.Pids }.OfType<string>().Distinct(StringComparer.Ordinal))
        {
            var parent = Path.Join(root, ParentName);
            if (!Directory.Exists(parent))
            {
                continue;
            }

            foreach (var dir in Directory.EnumerateDirectories(parent).Where(d => Directory.GetLastWriteTimeUtc(d) < cutoff))
            {
                try
                {
                    Directory.Delete(dir, recursive: false);
                    removed++;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Still in use (or not ours to remove): left for its own supervisor.
                }
            }
        }

        return removed;
    }

    /// <summary>CPU time charged to the run so far, in nanoseconds; null when it cannot be read.</summary>
    public long? CpuNanos() => CgroupFiles.CpuNanos(_cpuDir, _isV2);

    /// <summary>The run's memory high-water mark in bytes; null when it cannot be read.</summary>
    public long? PeakMemoryBytes() => CgroupFiles.PeakMemoryBytes(_memoryDir, _isV2);

    /// <summary>Restarts the high-water mark from the current use (cgroup v1; v2's memory.peak cannot be reset before Linux 6.12, where writing it does).</summary>
    public void ResetPeakMemory() => CgroupFiles.TryWrite(Path.Join(_memoryDir, _isV2 ? "memory.peak" : "memory.max_usage_in_bytes"), "0");

    /// <summary>The memory in use now, in bytes.</summary>
    public long? CurrentMemoryBytes() => CgroupFiles.ParseLong(CgroupFiles.TryRead(Path.Join(_memoryDir, _isV2 ? "memory.current" : "memory.usage_in_bytes")));

    /// <summary>True when the kernel's OOM killer acted in this cgroup (or, on old v1 kernels, the limit was hit).</summary>
    public bool OomKilled()
    {
        var events = CgroupFiles.TryRead(Path.Join(_memoryDir, _isV2 ? "memory.events" : "memory.oom_control"));
        var line = events?.Split('\n').FirstOrDefault(l => l.StartsWith("oom_kill ", StringComparison.Ordinal));
        if (line is not null)
        {
            return CgroupFiles.ParseLong(line["oom_kill ".Length..]) > 0;
        }

        return !_isV2 && CgroupFiles.ParseLong(CgroupFiles.TryRead(Path.Join(_memoryDir, "memory.failcnt"))) > 0;
    }

    /// <summary>SIGKILLs every process in the cgroup, whatever it is doing (its pid namespace's children included).</summary>
    /// <remarks>On cgroup v1 it kills until the cgroup is empty, so it also waits for the killed to exit (milliseconds for the worker).</remarks>
    public void KillAll() => CgroupTree.KillAll(_memoryDir, freezerDir: null, _isV2);

    /// <summary>
    /// SIGKILLs every process in the cgroup now, once, without waiting for them to exit (v2: <c>cgroup.kill</c>, which
    /// is the whole of <see cref="KillAll"/> there). On v1 a process forked between the read of the pids and the kills is
    /// not reached: whoever calls this calls <see cref="KillAll"/> after (the worker's ending, then <see cref="Dispose"/>).
    /// </summary>
    public void KillPresent()
    {
        if (_isV2)
        {
            KillAll();
            return;
        }

        foreach (var pid in CgroupTree.Pids(_memoryDir))
        {
            _ = SendSignal(pid, SigKill);
        }
    }

    /// <summary>Kills what is left and removes the cgroup in every hierarchy (rmdir only: cgroup files are not real files).</summary>
    public void Dispose()
    {
        // Full weight first: a parked worker's lowest weight would otherwise starve its own exit (the kernel frees its
        // memory in its context) behind busy siblings, for seconds on a loaded host, and the cgroup could not be removed.
        SetBackground(false);
        KillAll();
        var removing = System.Diagnostics.Stopwatch.StartNew();
        foreach (var dir in _dirs)
        {
            // Bounded by time, not by attempts: a large worker's exit can take a good part of a second on a loaded host.
            while (Directory.Exists(dir) && removing.Elapsed < s_removeTimeout)
            {
                try
                {
                    Directory.Delete(dir, recursive: false);
                }
                catch (IOException)
                {
                    // Busy until the last killed task is reaped by the kernel: a few milliseconds at most.
                    KillAll();
                    _ = Task.Delay(TimeSpan.FromMilliseconds(10), TimeProvider.System).Wait(TimeSpan.FromSeconds(1));
                }
                catch (UnauthorizedAccessException)
                {
                    break;
                }
            }
        }
    }

    private const int SigKill = 9;

    /// <summary>Longest a dispose waits for the killed to exit before it leaves the cgroup to <see cref="SweepStale"/>.</summary>
    private static readonly TimeSpan s_removeTimeout = TimeSpan.FromSeconds(5);

    // A plain libc call with int arguments: no marshalling (LibraryImport would need unsafe code in this project).
#pragma warning disable SYSLIB1054
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [System.Runtime.InteropServices.DefaultDllImportSearchPaths(System.Runtime.InteropServices.DllImportSearchPath.SafeDirectories)]
    private static extern int SendSignal(int pid, int signal);
#pragma warning restore SYSLIB1054

    private static string Decimal(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static void Write(string path, string value) => File.WriteAllText(path, value);
}

/// <summary>Where the cgroup controllers are mounted (all the same folder under v2).</summary>
internal sealed record CgroupLayout(string Memory, string Cpu, string CpuAcct, string? Pids, bool IsV2);
