using Sandbox.Core.Isolation;

namespace Sandbox.Core.Tests.Isolation;

public sealed class CgroupMountsTests : IDisposable
{
    private readonly string _mounts = Path.Join(Directory.CreateTempSubdirectory("cgroup-mounts-").FullName, "mounts");

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(_mounts)!, recursive: true);

    [Fact]
    public void Read_HybridHost_ListsItsV2TreeButUnifiedStaysTheWholeV2Host()
    {
        File.WriteAllLines(_mounts,
        [
            "tmpfs /sys/fs/cgroup tmpfs ro,nosuid,nodev,noexec,mode=755 0 0",
            "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0",
            "cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,nodev,noexec,relatime,memory 0 0",
        ]);

        var mounts = CgroupMounts.Read(_mounts);

        mounts.Select(m => (m.MountPoint, m.IsV2)).ShouldBe([("/sys/fs/cgroup/unified", true), ("/sys/fs/cgroup/memory", false)]);
        CgroupMounts.Unified(mounts).ShouldBeNull("a hybrid host's v2 tree has no controllers to read usage from or to limit with");
        CgroupMounts.V1(mounts, "memory").ShouldBe("/sys/fs/cgroup/memory");
    }

    [Fact]
    public void Unified_WholeV2Host_IsSysFsCgroup()
    {
        File.WriteAllLines(_mounts, ["cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime 0 0"]);

        CgroupMounts.Unified(CgroupMounts.Read(_mounts)).ShouldBe("/sys/fs/cgroup");
    }
}
