using Sandbox.Core.Runs;
using Sandbox.Docker.Execution;
using Sandbox.Docker.Tests.Support;

namespace Sandbox.Docker.Tests.Execution;

public sealed class OutcomeClassifierTests
{
    private static StepOutcome Outcome(long exit = 0, KillReason kill = KillReason.None, bool oom = false, long cpuMs = 10, long peak = 1024, bool stdoutOver = false) => new()
    {
        ExitCode = exit,
        OomKilled = oom,
        KillReason = kill,
        Stdout = [],
        Stderr = [],
        StdoutTotal = stdoutOver ? 2 * 1024 * 1024 : 0,
        StderrTotal = stdoutOver ? 0 : 600 * 1024,
        StdoutTruncated = stdoutOver,
        StderrTruncated = !stdoutOver && kill == KillReason.Output,
        WallMs = 10_050,
        CpuMs = cpuMs,
        PeakMemoryBytes = peak,
    };

    private static Classification Classify(StepOutcome outcome, int? compileErrorExitCode = null) =>
        OutcomeClassifier.Classify(outcome, SomeStep.Limits(), compileErrorExitCode);

    [Fact]
    public void Classify_ExitZero_IsOk() => Classify(Outcome()).Status.ShouldBe(RunStatus.Ok);

    [Fact]
    public void Classify_ContainerRemovedFromOutside_IsSandboxErrorThatNamesNoContainer()
    {
        var verdict = Classify(Outcome(exit: 137) with { Vanished = true });

        verdict.Status.ShouldBe(RunStatus.SandboxError);
        verdict.Message.ShouldNotBeNull().ShouldContain("removed from outside the service");
        verdict.Message.ShouldContain("output up to then is kept");
    }

    [Fact]
    public void Classify_RemovedAfterOurOwnKill_KeepsTheKillsStatus() =>
        Classify(Outcome(exit: 137, kill: KillReason.WallTime) with { Vanished = true }).Status.ShouldBe(RunStatus.Timeout);

    [Fact]
    public void Classify_EndedButNoExitCodeFromALostDaemon_IsSandboxErrorNotOk()
    {
        var verdict = Classify(Outcome() with { ExitCode = null, DaemonLost = true });

        verdict.Status.ShouldBe(RunStatus.SandboxError);
        verdict.Message.ShouldNotBeNull().ShouldContain("outcome is unknown");
    }

    [Fact]
    public void Classify_ExitZeroAfterTheDaemonWasLost_IsOkAndSaysOutputMayBeMissing()
    {
        var verdict = Classify(Outcome() with { DaemonLost = true });

        verdict.Status.ShouldBe(RunStatus.Ok);
        verdict.Message.ShouldNotBeNull().ShouldContain("output written after that is missing");
    }

    [Fact]
    public void Classify_SignalWeDidNotSendAfterTheDaemonWasLost_IsTheDaemonsFaultNotTheProgramsError()
    {
        var verdict = Classify(Outcome(exit: 137) with { DaemonLost = true });

        verdict.Status.ShouldBe(RunStatus.SandboxError);
        verdict.Message.ShouldNotBeNull().ShouldContain("restarted daemon stops");
    }

    [Fact]
    public void Classify_OurDeadlineKillWhileTheDaemonWasStopped_IsTimeout() =>
        Classify(Outcome(kill: KillReason.WallTime) with { ExitCode = null, DaemonLost = true }).Status.ShouldBe(RunStatus.Timeout);

    [Fact]
    public void Classify_ExitNonZero_IsRuntimeErrorWithoutSignal()
    {
        var verdict = Classify(Outcome(exit: 3));

        verdict.Status.ShouldBe(RunStatus.RuntimeError);
        verdict.Signal.ShouldBeNull();
    }

    [Fact]
    public void Classify_KilledBySegv_IsRuntimeErrorWithSignal11()
    {
        var verdict = Classify(Outcome(exit: 139));

        verdict.Status.ShouldBe(RunStatus.RuntimeError);
        verdict.Signal.ShouldBe(11);
    }

    [Fact]
    public void Classify_WallClockKill_IsTimeoutWithBreach()
    {
        var verdict = Classify(Outcome(exit: 137, kill: KillReason.WallTime));

        verdict.Status.ShouldBe(RunStatus.Timeout);
        verdict.Breach.ShouldBe(new LimitBreach("wallTimeMs", 10_000, 10_050));
    }

    [Fact]
    public void Classify_CpuKill_IsCpuLimitWithBreach()
    {
        var verdict = Classify(Outcome(exit: 137, kill: KillReason.CpuTime, cpuMs: 2_530));

        verdict.Status.ShouldBe(RunStatus.CpuLimit);
        verdict.Breach.ShouldBe(new LimitBreach("cpuTimeMs", 2_500, 2_530));
    }

    [Fact]
    public void Classify_SigXcpuBackstop_IsCpuLimit() => Classify(Outcome(exit: 152)).Status.ShouldBe(RunStatus.CpuLimit);

    [Fact]
    public void Classify_ExitedAfterUsingMoreCpuThanAllowed_IsCpuLimit() => Classify(Outcome(cpuMs: 2_600)).Status.ShouldBe(RunStatus.CpuLimit);

    [Fact]
    public void Classify_OomKilled_IsMemoryLimitWithBreach()
    {
        var verdict = Classify(Outcome(exit: 137, oom: true, peak: 256L * 1024 * 1024));

        verdict.Status.ShouldBe(RunStatus.MemoryLimit);
        verdict.Breach.ShouldBe(new LimitBreach("memoryBytes", 256L * 1024 * 1024, 256L * 1024 * 1024)); // observed is what was measured
    }

    [Fact]
    public void Classify_SigKillNearMemoryLimitWithoutOomFlag_IsMemoryLimit() =>
        Classify(Outcome(exit: 137, peak: 250L * 1024 * 1024)).Status.ShouldBe(RunStatus.MemoryLimit);

    [Fact]
    public void Classify_SigKillFarBelowMemoryLimit_IsRuntimeError() =>
        Classify(Outcome(exit: 137, peak: 10L * 1024 * 1024)).Status.ShouldBe(RunStatus.RuntimeError);

    [Fact]
    public void Classify_StdoutFlood_IsOutputLimitOnStdout()
    {
        var verdict = Classify(Outcome(exit: 137, kill: KillReason.Output, stdoutOver: true));

        verdict.Status.ShouldBe(RunStatus.OutputLimit);
        verdict.Breach.ShouldBe(new LimitBreach("stdoutBytes", 1024 * 1024, 2 * 1024 * 1024));
    }

    [Fact]
    public void Classify_StderrFlood_IsOutputLimitOnStderr()
    {
        var verdict = Classify(Outcome(exit: 137, kill: KillReason.Output));

        verdict.Breach.ShouldNotBeNull().Limit.ShouldBe("stderrBytes");
    }

    [Fact]
    public void Classify_CompileErrorExitCode_IsCompileError() =>
        Classify(Outcome(exit: 65), compileErrorExitCode: 65).Status.ShouldBe(RunStatus.CompileError);

    [Fact]
    public void Classify_EntryRefusedTheFiles_IsSandboxError()
    {
        var verdict = Classify(Outcome(exit: 125) with { Stderr = "sandbox-entry: bad header: expected 'SANDBOX-FILES 1'\n"u8.ToArray() });

        verdict.Status.ShouldBe(RunStatus.SandboxError);
        verdict.Message.ShouldNotBeNull().ShouldContain("bad header");
    }

    [Fact]
    public void Classify_ProgramExiting125_IsRuntimeError() => Classify(Outcome(exit: 125)).Status.ShouldBe(RunStatus.RuntimeError);

    [Fact]
    public void Classify_FirstKillReasonWins_OverOomFlag() =>
        Classify(Outcome(exit: 137, kill: KillReason.WallTime, oom: true)).Status.ShouldBe(RunStatus.Timeout);
}
