using Sandbox.Core.Execution;
using Sandbox.Core.Limits;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Server.Http;
using Sandbox.Server.Sessions;

namespace Sandbox.Server.Tests.Sessions;

public sealed class SessionCellsTests
{
    private static readonly ResourceLimits s_limits = new()
    {
        WallTimeMs = 10_000, CpuTimeMs = 5_000, MemoryBytes = 256 << 20, Pids = 64, StdoutBytes = 1 << 20, StderrBytes = 1 << 20, FileSizeBytes = 16 << 20, TmpBytes = 64 << 20,
    };

    private static readonly RunPlan s_session = new()
    {
        RunId = "ses_1",
        Request = new RunRequest { Language = "python", Code = "pass" },
        Profile = new Profile { Name = "python", Language = "python", SourceFile = "main.py", Limits = s_limits, Runtime = "crun" },
        Limits = s_limits,
        Runtime = "crun",
    };

    [Fact]
    public void Check_TheSessionsOwnFieldsAndTighterCellLimits_AreAccepted()
    {
        var request = new RunRequest
        {
            Language = "python", Code = "x + 1", Profile = "python", Runtime = "crun", Backend = "docker",
            Limits = new LimitOverrides { WallTimeMs = 1000, CpuTimeMs = 500, StdoutBytes = 100, StderrBytes = 100 },
        };

        SessionCells.Check(request, default, s_session).ShouldBeEmpty();
    }

    [Fact]
    public void Check_AnotherLanguageProfileOrRuntime_NamesEachField()
    {
        var request = new RunRequest { Language = "bash", Code = "echo", Profile = "python-gvisor", Runtime = "runsc", Backend = "wasm" };

        SessionCells.Check(request, default, s_session).Select(e => e.Field).ShouldBe(["language", "profile", "runtime", "backend"]);
    }

    [Fact]
    public void Check_LimitsTheContainerHolds_AreRefusedByName()
    {
        var request = new RunRequest
        {
            Language = "python", Code = "1",
            Limits = new LimitOverrides { MemoryBytes = 64 << 20, Pids = 8, TmpBytes = 1 << 20, FileSizeBytes = 1 << 20 },
        };

        SessionCells.Check(request, default, s_session).Select(e => e.Field)
            .ShouldBe(["limits.memoryBytes", "limits.pids", "limits.tmpBytes", "limits.fileSizeBytes"]);
    }

    [Fact]
    public void Check_AnswerOptionsACellCannotHonour_AreRefusedByName()
    {
        var request = new RunRequest { Language = "python", Code = "1" };

        SessionCells.Check(request, new RunRequestBody.Answer(Async: true, CancelOnDisconnect: true, DryRun: true, RawOutput: true), s_session)
            .Select(e => e.Field).ShouldBe(["async", "dryRun", "cancelOnDisconnect"]);
    }
}
