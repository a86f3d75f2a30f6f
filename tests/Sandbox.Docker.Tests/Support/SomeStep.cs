using Sandbox.Core.Limits;
using Sandbox.Docker.Spec;

namespace Sandbox.Docker.Tests.Support;

/// <summary>Test data for container steps.</summary>
internal static class SomeStep
{
    public static ResourceLimits Limits() => new()
    {
        WallTimeMs = 10_000,
        CpuTimeMs = 2_500,
        MemoryBytes = 256L * 1024 * 1024,
        Pids = 64,
        StdoutBytes = 1024 * 1024,
        StderrBytes = 512 * 1024,
        FileSizeBytes = 16L * 1024 * 1024,
        TmpBytes = 64L * 1024 * 1024,
    };

    public static ContainerStep Step(bool tmpExec = false, string runtime = "runc") => new()
    {
        RunId = "run_abc",
        StepName = "run",
        Image = "sandbox/python:latest",
        Command = ["python3", "main.py"],
        Environment = new Dictionary<string, string> { ["HOME"] = "/tmp", ["LANG"] = "C.UTF-8" },
        Limits = Limits(),
        Runtime = runtime,
        TmpExec = tmpExec,
        CgroupParent = "/sandbox/run_abc-run",
        DeadlineUnixMs = 1_700_000_000_000,
        KillAtUnixMs = 1_699_999_940_000,
    };
}
