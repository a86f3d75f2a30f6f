using Sandbox.Core.Limits;
using Sandbox.Core.Runs;
using Sandbox.Server.Mcp;
using Sandbox.Server.Runs;

namespace Sandbox.Server.Tests.Mcp;

/// <summary>Test data for the MCP tests with sensible defaults; each test states only what matters to it.</summary>
internal static class Some
{
    public const long MiB = 1024 * 1024;

    public static ResourceLimits Limits(long memoryBytes = 256 * MiB, long wallTimeMs = 10_000) => new()
    {
        WallTimeMs = wallTimeMs,
        CpuTimeMs = 5_000,
        MemoryBytes = memoryBytes,
        Pids = 64,
        StdoutBytes = 1 * MiB,
        StderrBytes = 1 * MiB,
        FileSizeBytes = 16 * MiB,
        TmpBytes = 64 * MiB,
    };

    public static RunResult Result(RunStatus status, string profile = "python") => new()
    {
        RunId = "run_0195f3a2b4c64d7e8f90a1b2c3d4e5f6",
        Status = status,
        ExitCode = status is RunStatus.Ok ? 0 : null,
        Stdout = status is RunStatus.Ok ? "2\n" : "",
        Usage = new ResourceUsage { WallMs = 120, CpuMs = 40, PeakMemoryBytes = 9 * MiB, OutputBytes = 2 },
        Limits = Limits(),
        Language = "python",
        Profile = profile,
        Backend = "docker",
        Runtime = "runc",
    };

    public static RunView View(RunResult result) => new()
    {
        Id = result.RunId,
        State = "completed",
        CreatedAt = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero),
        QueueMs = 3,
        RunMs = 450,
        Result = result,
    };

    public static LanguageView Language(string language, params string[] otherProfiles) => new()
    {
        Language = language,
        DefaultProfile = language,
        Backend = "docker",
        Description = $"{language} for tests",
        Profiles = [language, .. otherProfiles],
        Limits = Limits(),
    };

    public static IReadOnlyList<LanguageView> Languages() =>
        [Language("python", "python-big", "python-gvisor"), Language("javascript"), Language("bash")];

    /// <summary>python allows 256 MiB by default and python-big 512 MiB and 60 s.</summary>
    public static IReadOnlyList<ProfileCeiling> Ceilings() =>
    [
        new("python", "python", Limits()),
        new("python-big", "python", Limits(memoryBytes: 512 * MiB, wallTimeMs: 60_000)),
        new("python-gvisor", "python", Limits()),
        new("javascript", "javascript", Limits()),
        new("bash", "bash", Limits()),
    ];

    public static LanguageCatalog Catalog() => new(Languages(), Ceilings());
}
