using Sandbox.Core.Isolation;

namespace Sandbox.Core.Tests.Isolation;

/// <summary>The reads over a folder laid out as a cgroup v1 tree (the kill itself is tested on real cgroups, in the Docker integration tests).</summary>
public sealed class CgroupTreeTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("cgroup-tree-");

    [Fact]
    public void IsPopulated_MissingDirectory_IsUnknownNotEnded() => CgroupTree.IsPopulated(Path.Join(_root.FullName, "gone"), isV2: false).ShouldBeNull();

    [Fact]
    public void IsPopulated_PidOnlyInAChildCgroup_IsTrueAndPidsFindsIt()
    {
        Write("cgroup.procs", "");
        Write("abc/cgroup.procs", "41\n42\n");

        CgroupTree.IsPopulated(_root.FullName, isV2: false).ShouldBe(true);
        CgroupTree.Pids(_root.FullName).ShouldBe([41, 42], ignoreOrder: true);
    }

    [Fact]
    public void IsPopulated_NoPidAnywhere_IsFalse()
    {
        Write("cgroup.procs", "");
        Write("abc/cgroup.procs", "");

        CgroupTree.IsPopulated(_root.FullName, isV2: false).ShouldBe(false);
    }

    [Fact]
    public void IsPopulated_V2_ReadsTheKernelsSummary()
    {
        Write("cgroup.events", "populated 0\nfrozen 0\n");

        CgroupTree.IsPopulated(_root.FullName, isV2: true).ShouldBe(false);
    }

    [Fact]
    public void OomKills_V1_AddsTheContainersCountToTheParents()
    {
        Write("memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
        Write("abc/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");

        CgroupTree.OomKills(_root.FullName, isV2: false).ShouldBe(2);
    }

    public void Dispose() => _root.Delete(recursive: true);

    private void Write(string relative, string text)
    {
        var path = Path.Join(_root.FullName, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }
}
