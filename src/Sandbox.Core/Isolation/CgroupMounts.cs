namespace Sandbox.Core.Isolation;

/// <summary>One cgroup filesystem mounted on this host: v1 (one or more controllers each) or the v2 unified tree.</summary>
public sealed record CgroupMount(string MountPoint, bool IsV2, IReadOnlyList<string> Options)
{
    /// <summary>True when this v1 hierarchy carries <paramref name="controller"/> (such as <c>memory</c> or <c>cpuacct</c>).</summary>
    public bool Has(string controller) => !IsV2 && Options.Contains(controller, StringComparer.Ordinal);
}

/// <summary>
/// Reads the host's cgroup mounts from <c>/proc/self/mounts</c>: the one parser both backends use to find where the
/// kernel's memory and CPU accounting live (the Docker backend to read a run's usage, the WebAssembly backend to make
/// and limit its worker's cgroup).
/// </summary>
public static class CgroupMounts
{
    /// <summary>The cgroup mounts, in mount order; empty when the file cannot be read.</summary>
    public static IReadOnlyList<CgroupMount> Read(string mountsFile = "/proc/self/mounts")
    {
        var mounts = new List<CgroupMount>();
        try
        {
            foreach (var line in File.ReadLines(mountsFile))
            {
                var parts = line.Split(' ');
                if (parts.Length < 4)
                {
                    continue;
                }

                var (type, mountPoint, options) = (parts[2], parts[1], parts[3].Split(','));
                if (type == "cgroup2")
                {
                    // Also a hybrid host's v2 tree (systemd's /sys/fs/cgroup/unified beside the v1 controllers): it has no
                    // controllers, but container runtimes make each container's cgroup there too, so it is ours to clean.
                    mounts.Add(new CgroupMount(mountPoint, IsV2: true, options));
                }
                else if (type == "cgroup")
                {
                    mounts.Add(new CgroupMount(mountPoint, IsV2: false, options));
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }

        return mounts;
    }

    /// <summary>The v1 hierarchy carrying <paramref name="controller"/>, or null.</summary>
    public static string? V1(IReadOnlyList<CgroupMount> mounts, string controller) =>
        mounts.FirstOrDefault(m => m.Has(controller))?.MountPoint;

    /// <summary>The v2 unified tree at <c>/sys/fs/cgroup</c>, or null (a hybrid host's tree elsewhere carries no controllers).</summary>
    public static string? Unified(IReadOnlyList<CgroupMount> mounts) => mounts.FirstOrDefault(m => m.IsV2 && m.MountPoint == UnifiedMountPoint)?.MountPoint;

    private const string UnifiedMountPoint = "/sys/fs/cgroup";
}
