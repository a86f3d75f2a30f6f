using Sandbox.Core.Execution;
using Sandbox.Core.Limits;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;

namespace Sandbox.Wasm.Tests.Support;

/// <summary>A run of a module (by default one that spins forever), for tests of the worker's supervision, and where its cgroup lives.</summary>
internal static class SpinningRun
{
    /// <summary>Where the backend makes each worker's memory cgroup (cgroup v1, as on the CI machine).</summary>
    public const string CgroupParent = "/sys/fs/cgroup/memory/sandbox-wasm";

    public static RunPlan Plan(string runId, long wallTimeMs, long cpuTimeMs, string module = "Backend/infinite-loop")
    {
        var limits = new ResourceLimits
        {
            WallTimeMs = wallTimeMs,
            CpuTimeMs = cpuTimeMs,
            MemoryBytes = 16L * 1024 * 1024,
            Pids = 1,
            StdoutBytes = 1024,
            StderrBytes = 1024,
            FileSizeBytes = 1024,
            TmpBytes = 1024 * 1024,
        };
        return new RunPlan
        {
            RunId = runId,
            Request = new RunRequest { Language = LanguageNames.Wasm, Code = Convert.ToBase64String(Fixture.Load(module)) },
            Profile = new Profile { Name = "wasm", Language = LanguageNames.Wasm, Backend = BackendNames.Wasm, SourceFile = "main.wasm", Limits = limits },
            Limits = limits,
            Runtime = RuntimeNames.Bubblewrap,
        };
    }

    /// <summary>The run's worker cgroups present now (each worker's is named after its run, plus a random suffix).</summary>
    public static string[] Cgroups(string runId) =>
        Directory.Exists(CgroupParent) ? [.. Directory.EnumerateDirectories(CgroupParent, runId + "-*")] : [];
}
