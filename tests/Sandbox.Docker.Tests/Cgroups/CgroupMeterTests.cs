using Sandbox.Docker.Cgroups;

namespace Sandbox.Docker.Tests.Cgroups;

/// <summary>
/// The meter on a hybrid host laid out in a temporary folder: v1 controllers plus systemd's v2 tree at
/// <c>unified</c>, as on this project's CI machine, where the container runtime makes every run's cgroup in all of them.
/// </summary>
public sealed class CgroupMeterTests : IDisposable
{
    private const string Parent = "/sandbox/run_0123-run";

    private readonly string _root = Directory.CreateTempSubdirectory("cgroup-meter-").FullName;
    private readonly string[] _hierarchies = ["memory", "cpu,cpuacct", "freezer", "systemd", "unified"];
    private readonly CgroupMeter _meter;

    public CgroupMeterTests()
    {
        var mounts = Path.Join(_root, "mounts");
        File.WriteAllLines(mounts,
        [
            $"cgroup2 {Path.Join(_root, "unified")} cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0",
            $"cgroup {Path.Join(_root, "systemd")} cgroup rw,nosuid,nodev,noexec,relatime,xattr,name=systemd 0 0",
            $"cgroup {Path.Join(_root, "memory")} cgroup rw,nosuid,nodev,noexec,relatime,memory 0 0",
            $"cgroup {Path.Join(_root, "cpu,cpuacct")} cgroup rw,nosuid,nodev,noexec,relatime,cpu,cpuacct 0 0",
            $"cgroup {Path.Join(_root, "freezer")} cgroup rw,nosuid,nodev,noexec,relatime,freezer 0 0",
        ]);
        _meter = CgroupMeter.Detect(mounts);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Dir(string hierarchy, string parent = Parent) => Path.Join(_root, hierarchy, parent);

    [Fact]
    public void TryRemove_HybridHost_RemovesTheRunsCgroupFromEveryHierarchyTheV2TreeIncluded()
    {
        foreach (var hierarchy in _hierarchies)
        {
            Directory.CreateDirectory(Dir(hierarchy));
        }

        _meter.TryRemove(Parent).ShouldBeTrue();

        _hierarchies.Where(h => Directory.Exists(Dir(h))).ShouldBeEmpty("no hierarchy keeps an empty cgroup of a finished run");
    }

    [Fact]
    public void ListRunParents_ParentLeftOnlyInTheV2Tree_IsListedSoTheReaperSweepsIt()
    {
        Directory.CreateDirectory(Dir("memory", "/sandbox/pool-both"));
        Directory.CreateDirectory(Dir("unified", "/sandbox/pool-both"));
        Directory.CreateDirectory(Dir("unified", "/sandbox/pool-orphan"));

        _meter.ListRunParents().Order(StringComparer.Ordinal).ShouldBe(["/sandbox/pool-both", "/sandbox/pool-orphan"]);
    }

    [Fact]
    public void LastChangedUtc_IsTheLatestChangeInAnyHierarchy_AndNullOnceGoneFromAll()
    {
        var old = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var recent = old.AddHours(3);
        foreach (var hierarchy in _hierarchies)
        {
            Directory.CreateDirectory(Dir(hierarchy));
            Directory.SetLastWriteTimeUtc(Dir(hierarchy), hierarchy == "unified" ? recent : old);
        }

        _meter.LastChangedUtc(Parent).ShouldBe(new DateTimeOffset(recent));

        _meter.TryRemove(Parent).ShouldBeTrue();
        _meter.LastChangedUtc(Parent).ShouldBeNull();
    }
}
