using System.Globalization;
using System.Runtime.InteropServices;

namespace Sandbox.Core.Isolation;

/// <summary>
/// What the kernel knows about a cgroup and everything under it, without asking anyone else: whether any process is
/// still in it, how many OOM kills it saw, and a kill of every process in it. This is how a run's deadline is held and
/// its end observed when the Docker daemon does not answer (stopped, or killed while containerd's shims live on).
/// cgroup v1 (a controller's directory; the freezer's for a race-free kill) and v2 (one directory, <c>cgroup.kill</c>).
/// </summary>
public static class CgroupTree
{
    private const int SigKill = 9;

    /// <summary>
    /// Whether any process is in <paramref name="dir"/> or below it; null when the directory does not exist (not made yet,
    /// or already removed), so a caller never mistakes "unknown" for "ended".
    /// </summary>
    public static bool? IsPopulated(string dir, bool isV2)
    {
        if (!Directory.Exists(dir))
        {
            return null;
        }

        if (isV2 && CgroupFiles.TryRead(Path.Join(dir, "cgroup.events")) is { } events)
        {
            // The kernel's own summary of the whole subtree: one read.
            return events.Split('\n').Any(l => l.Trim() == "populated 1");
        }

        return Pids(dir).Count > 0;
    }

    /// <summary>Every pid in <paramref name="dir"/> and its descendants (a cgroup can vanish while it is read: what is gone is skipped).</summary>
    public static IReadOnlyList<int> Pids(string dir)
    {
        var pids = new List<int>();
        Collect(dir, pids, depth: 0);
        return pids;
    }

    /// <summary>OOM kills the kernel counted in <paramref name="memoryDir"/> and below (v1 <c>memory.oom_control</c>, v2 <c>memory.events</c>).</summary>
    public static long OomKills(string memoryDir, bool isV2)
    {
        long total = 0;
        foreach (var dir in Tree(memoryDir, depth: 0))
        {
            var text = CgroupFiles.TryRead(Path.Join(dir, isV2 ? "memory.events" : "memory.oom_control"));
            var line = text?.Split('\n').FirstOrDefault(l => l.StartsWith("oom_kill ", StringComparison.Ordinal));
            total += CgroupFiles.ParseLong(line?["oom_kill ".Length..]) ?? 0;
            if (isV2)
            {
                // v2 counts a descendant's OOM kills in its ancestors too: the top directory's figure is the subtree's.
                break;
            }
        }

        return total;
    }

    /// <summary>
    /// SIGKILLs every process in the cgroup tree. v2: one write to <c>cgroup.kill</c>. v1: freeze the tree (when
    /// <paramref name="freezerDir"/> is given) so nothing can fork between the read of the pids and the kills, kill each,
    /// thaw so the kills are delivered; without a freezer, kill until empty (bounded: the pids limit caps every fork).
    /// Returns whether the tree was found at all.
    /// </summary>
    public static bool KillAll(string dir, string? freezerDir, bool isV2)
    {
        if (!Directory.Exists(dir))
        {
            return false;
        }

        if (isV2 && CgroupFiles.TryWrite(Path.Join(dir, "cgroup.kill"), "1"))
        {
            return true;
        }

        var frozen = freezerDir is not null && Directory.Exists(freezerDir) && CgroupFiles.TryWrite(Path.Join(freezerDir, "freezer.state"), "FROZEN");
        try
        {
            for (var round = 0; round < 50; round++)
            {
                var pids = Pids(dir);
                if (pids.Count == 0)
                {
                    break;
                }

                foreach (var pid in pids)
                {
                    _ = Kill(pid, SigKill);
                }

                if (frozen)
                {
                    // Nothing frozen can fork: one round reaches every process.
                    break;
                }
            }
        }
        finally
        {
            if (frozen)
            {
                // Thawed, the killed tasks run just long enough to die; left frozen they would hold the cgroup forever.
                CgroupFiles.TryWrite(Path.Join(freezerDir!, "freezer.state"), "THAWED");
            }
        }

        return true;
    }

    private static void Collect(string dir, List<int> pids, int depth)
    {
        foreach (var each in Tree(dir, depth))
        {
            foreach (var line in (CgroupFiles.TryRead(Path.Join(each, "cgroup.procs")) ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                if (int.TryParse(line, NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid) && pid > 0)
                {
                    pids.Add(pid);
                }
            }
        }
    }

    /// <summary>The directory and its descendants, depth-first; bounded in depth (a container's tree is two or three levels).</summary>
    private static IEnumerable<string> Tree(string dir, int depth)
    {
        yield return dir;
        if (depth >= 8)
        {
            yield break;
        }

        string[] children;
        try
        {
            children = Directory.GetDirectories(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            yield break;
        }

        foreach (var child in children)
        {
            foreach (var each in Tree(child, depth + 1))
            {
                yield return each;
            }
        }
    }


    // A plain libc call with int arguments: no marshalling (LibraryImport would need unsafe code in this project).
#pragma warning disable SYSLIB1054
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Kill(int pid, int signal);
#pragma warning restore SYSLIB1054
}
