using System.Globalization;
using Sandbox.Core.Isolation;
using Sandbox.Docker.Spec;

namespace Sandbox.Docker.Cgroups;

/// <summary>
/// Reads a run's CPU time and peak memory from the host's cgroup filesystem.
/// Each run's containers live under their own parent cgroup (<c>/sandbox/&lt;run id&gt;</c>), which
/// outlives the container: the kernel charges usage to every ancestor, so the parent's counters stay
/// exact after the container's own cgroup is gone. Supports cgroup v1 (cpuacct + memory) and v2.
/// </summary>
public sealed class CgroupMeter
{
    private readonly string? _cpuRoot;
    private readonly string? _memoryRoot;
    private readonly string? _freezerRoot;
    private readonly string[] _allRoots;
    private readonly bool _isV2;

    private CgroupMeter(string? cpuRoot, string? memoryRoot, string? freezerRoot, string[] allRoots, bool isV2)
    {
        _cpuRoot = cpuRoot;
        _memoryRoot = memoryRoot;
        _freezerRoot = freezerRoot;
        _allRoots = allRoots;
        _isV2 = isV2;
    }

    /// <summary>True when CPU time and memory can be read; a run is refused otherwise (fail closed).</summary>
    public bool IsAvailable => _cpuRoot is not null && _memoryRoot is not null;

    /// <summary>Why the meter is unavailable, for <c>sandbox doctor</c> and the refusal message.</summary>
    public string Description => IsAvailable
        ? $"cgroup {(_isV2 ? "v2" : "v1")} (cpu: {_cpuRoot}, memory: {_memoryRoot})"
        : "no cgroup cpu/memory hierarchy is mounted and readable under /sys/fs/cgroup; the sandbox host must run on the Docker host as root";

    /// <summary>Finds the cgroup mounts from <c>/proc/self/mounts</c>.</summary>
    public static CgroupMeter Detect(string mountsFile = "/proc/self/mounts")
    {
        var mounts = CgroupMounts.Read(mountsFile);
        string? cpu = CgroupMounts.V1(mounts, "cpuacct"), memory = CgroupMounts.V1(mounts, "memory");
        if (cpu is not null && memory is not null)
        {
            // Every hierarchy, the hybrid host's v2 tree included: the runtime makes the run's cgroup in each, and one left
            // behind in any of them is kernel memory no one frees (an empty cgroup per run, for the host's whole life).
            return new CgroupMeter(cpu, memory, CgroupMounts.V1(mounts, "freezer"), [.. mounts.Select(m => m.MountPoint)], isV2: false);
        }

        return CgroupMounts.Unified(mounts) is { } unified
            ? new CgroupMeter(unified, unified, null, [unified], isV2: true)
            : new CgroupMeter(null, null, null, [], isV2: false);
    }

    /// <summary>The parent cgroup name for a run, as passed to Docker's <c>CgroupParent</c>.</summary>
    public static string ParentFor(string runId) => $"/sandbox/{runId}";

    /// <summary>A labelled container's run cgroup: its cgroup-parent label, else the one its run and step name.</summary>
    internal static string ParentOf(IReadOnlyDictionary<string, string> labels, string? runId) =>
        labels.GetValueOrDefault(SandboxLabels.CgroupParent) ?? ParentFor($"{runId}-{labels.GetValueOrDefault(SandboxLabels.Step)}");

    /// <summary>CPU time charged so far to the run's parent cgroup, in nanoseconds; null before it exists.</summary>
    public long? ReadCpuNanos(string parent) => _cpuRoot is null ? null : CgroupFiles.CpuNanos(Path.Join(_cpuRoot, parent), _isV2);

    /// <summary>
    /// Starts a claimed warm container's accounting now: resets the parent cgroup's CPU counter and memory high-water mark
    /// where the kernel allows it (v1: <c>cpuacct.usage</c> and <c>memory.max_usage_in_bytes</c> take 0; v2 kernels from
    /// 6.12 reset <c>memory.peak</c> on a write), and returns the CPU time still charged, which the run subtracts (0 after a reset).
    /// </summary>
    public long ResetForClaim(string parent)
    {
        if (_cpuRoot is null || _memoryRoot is null)
        {
            return 0;
        }

        if (_isV2)
        {
            CgroupFiles.TryWrite(Path.Join(_memoryRoot, parent, "memory.peak"), "0");
        }
        else
        {
            CgroupFiles.TryWrite(Path.Join(_cpuRoot, parent, "cpuacct.usage"), "0");
            CgroupFiles.TryWrite(Path.Join(_memoryRoot, parent, "memory.max_usage_in_bytes"), "0");
        }

        return ReadCpuNanos(parent) ?? 0;
    }

    /// <summary>The largest memory footprint of the run's parent cgroup so far, in bytes; null before it exists.</summary>
    public long? ReadPeakMemoryBytes(string parent) => _memoryRoot is null ? null : CgroupFiles.PeakMemoryBytes(Path.Join(_memoryRoot, parent), _isV2);

    /// <summary>
    /// Whether any process of the step is alive, read from the kernel (no daemon involved); null when its cgroup does not
    /// exist, which is "unknown", never "ended".
    /// </summary>
    public bool? IsPopulated(string parent) => _cpuRoot is null ? null : CgroupTree.IsPopulated(Path.Join(_cpuRoot, parent), _isV2);

    /// <summary>SIGKILLs every process under the step's parent cgroup, without the daemon; false when the cgroup is not there.</summary>
    public bool Kill(string parent) =>
        _cpuRoot is not null && CgroupTree.KillAll(Path.Join(_cpuRoot, parent), _freezerRoot is null ? null : Path.Join(_freezerRoot, parent), _isV2);

    /// <summary>OOM kills the kernel counted under the step's parent cgroup (so far as its cgroups still exist).</summary>
    public long ReadOomKills(string parent) => _memoryRoot is null ? 0 : CgroupTree.OomKills(Path.Join(_memoryRoot, parent), _isV2);

    /// <summary>Removes the run's parent cgroup in every hierarchy. Returns false when some could not be removed yet.</summary>
    public bool TryRemove(string parent)
    {
        var removedAll = true;
        foreach (var root in _allRoots)
        {
            var dir = Path.Join(root, parent);
            try
            {
                if (Directory.Exists(dir))
                {
                    // cgroup directories are removed with rmdir, never recursively: their files are not real files.
                    Directory.Delete(dir, recursive: false);
                }
            }
            catch (IOException)
            {
                removedAll = false;
            }
            catch (UnauthorizedAccessException)
            {
                removedAll = false;
            }
        }

        return removedAll;
    }

    /// <summary>Names of run cgroups left under <c>/sandbox</c> in any hierarchy (for the reaper).</summary>
    public IReadOnlyList<string> ListRunParents() =>
        [.. _allRoots
            .Select(root => Path.Join(root, "sandbox"))
            .Where(Directory.Exists)
            .SelectMany(Directory.EnumerateDirectories)
            .Select(d => "/sandbox/" + Path.GetFileName(d))
            .Distinct(StringComparer.Ordinal)];

    /// <summary>When the run cgroup was last changed in any hierarchy, or null when it is gone from all of them.</summary>
    public DateTimeOffset? LastChangedUtc(string parent)
    {
        DateTimeOffset? latest = null;
        foreach (var dir in _allRoots.Select(root => Path.Join(root, parent)).Where(Directory.Exists))
        {
            var changed = new DateTimeOffset(Directory.GetLastWriteTimeUtc(dir), TimeSpan.Zero);
            latest = latest is null || changed > latest ? changed : latest;
        }

        return latest;
    }
}
