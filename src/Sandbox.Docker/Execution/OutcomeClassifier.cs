using Sandbox.Core.Limits;
using Sandbox.Core.Runs;

namespace Sandbox.Docker.Execution;

/// <summary>
/// Turns what was measured about a step into exactly one status, with the limit and the observation when
/// a limit ended it. Pure, so every branch is unit-tested.
/// </summary>
internal static class OutcomeClassifier
{
    /// <summary>Exit status of a process killed by SIGKILL under docker-init (128 + 9).</summary>
    public const long SigKillExit = 137;

    /// <summary>Exit status of a process stopped by RLIMIT_CPU's SIGXCPU (128 + 24).</summary>
    public const long SigXcpuExit = 152;

    /// <summary>Exit status of <c>sandbox-entry</c> when the file stream or a path was bad (see images/README.md).</summary>
    public const long EntryFailedExit = 125;

    private static ReadOnlySpan<byte> EntryFailedPrefix => "sandbox-entry: "u8;

    /// <summary>A SIGKILL with peak memory this close to the limit is the OOM killer's work even if Docker did not flag it (gVisor).</summary>
    public const double OomPeakRatio = 0.9;

    public static Classification Classify(StepOutcome outcome, ResourceLimits limits, int? compileErrorExitCode)
    {
        var verdict = ClassifyEnd(outcome, limits, compileErrorExitCode);
        if (!outcome.DaemonLost || verdict.Status == RunStatus.SandboxError)
        {
            return verdict;
        }

        // The status stands (the kernel saw the end, the daemon or the shim told the code); the output may not be whole.
        var said = verdict.Message ?? $"{verdict.Status.ToWireName()}: the program exited with code {outcome.ExitCode}";
        return verdict with { Message = said + "; the Docker daemon stopped answering during the run, so output written after that is missing" };
    }

    private static Classification ClassifyEnd(StepOutcome outcome, ResourceLimits limits, int? compileErrorExitCode)
    {
        if (outcome.Vanished && outcome.KillReason is KillReason.None)
        {
            // Not the program's doing and not ours: say what happened, never the container's id.
            return new(RunStatus.SandboxError, null, null,
                "sandbox_error: the run's container was removed from outside the service (docker rm -f, or an operator's clean-up) while the program ran; the output up to then is kept");
        }

        var signal = outcome.ExitCode is > 128 and < 160 ? (int)(outcome.ExitCode - 128) : (int?)null;
        switch (outcome.KillReason)
        {
            case KillReason.Output:
                var stdoutOver = outcome.StdoutTruncated;
                return new(RunStatus.OutputLimit, signal,
                    stdoutOver
                        ? new LimitBreach(LimitNames.StdoutBytes, limits.StdoutBytes, outcome.StdoutTotal)
                        : new LimitBreach(LimitNames.StderrBytes, limits.StderrBytes, outcome.StderrTotal),
                    stdoutOver
                        ? $"output_limit: the program wrote more than {limits.StdoutBytes} bytes to stdout and was killed"
                        : $"output_limit: the program wrote more than {limits.StderrBytes} bytes to stderr and was killed");
            case KillReason.WallTime:
                return new(RunStatus.Timeout, signal,
                    new LimitBreach(LimitNames.WallTimeMs, limits.WallTimeMs, outcome.WallMs),
                    $"timeout: still running after {limits.WallTimeMs} ms of wall-clock time and killed");
            case KillReason.CpuTime:
                return CpuLimit(outcome, limits, signal);
        }

        var killedBySignal = outcome.ExitCode == SigKillExit;
        if (outcome.OomKilled || (killedBySignal && outcome.PeakMemoryBytes >= limits.MemoryBytes * OomPeakRatio))
        {
            return new(RunStatus.MemoryLimit, signal,
                new LimitBreach(LimitNames.MemoryBytes, limits.MemoryBytes, outcome.PeakMemoryBytes),
                $"memory_limit: needed more than the {limits.MemoryBytes} bytes of memory allowed and was killed");
        }

        if (outcome.ExitCode is null)
        {
            return new(RunStatus.SandboxError, null, null,
                $"sandbox_error: the Docker daemon stopped answering; the program's processes ended on their own after {outcome.WallMs} ms, within its limits, but the daemon did not come back in time to tell the exit code, so the outcome is unknown");
        }

        if (outcome.DaemonLost && signal is { } daemonSignal)
        {
            // A daemon restarted without live-restore stops the containers it finds running: a signal we did not send,
            // seen after the daemon was lost, is the daemon's doing until shown otherwise, and never charged to the program.
            return new(RunStatus.SandboxError, null, null,
                $"sandbox_error: the program was ended by signal {daemonSignal} after the Docker daemon was lost mid-run (a restarted daemon stops the containers it finds running)");
        }

        // The RLIMIT_CPU backstop, or usage measured past the limit between two samples: CPU time was exceeded.
        if (outcome.ExitCode == SigXcpuExit || outcome.CpuMs > limits.CpuTimeMs)
        {
            return CpuLimit(outcome, limits, signal);
        }

        if (outcome.ExitCode == 0)
        {
            return new(RunStatus.Ok, null, null, null);
        }

        // sandbox-entry could not unpack the files: our framing or image is broken, the program never started.
        if (outcome.ExitCode == EntryFailedExit && outcome.Stderr.AsSpan().StartsWith(EntryFailedPrefix))
        {
            return new(RunStatus.SandboxError, null, null,
                "sandbox_error: the image's sandbox-entry refused the program's files (" + System.Text.Encoding.UTF8.GetString(outcome.Stderr).Trim() + "); rebuild the images with 'make images'");
        }

        if (compileErrorExitCode is { } code && outcome.ExitCode == code)
        {
            return new(RunStatus.CompileError, null, null, "compile_error: the program did not compile; see stderr");
        }

        return new(RunStatus.RuntimeError, signal, null,
            signal is { } s ? $"runtime_error: the program was killed by signal {s}" : $"runtime_error: the program exited with code {outcome.ExitCode}");
    }

    private static Classification CpuLimit(StepOutcome outcome, ResourceLimits limits, int? signal) =>
        new(RunStatus.CpuLimit, signal,
            new LimitBreach(LimitNames.CpuTimeMs, limits.CpuTimeMs, outcome.CpuMs),
            $"cpu_limit: used more than the {limits.CpuTimeMs} ms of CPU time allowed and was killed");
}

/// <summary>The status of a step, the signal that ended it (if any), and the limit it broke (if any).</summary>
internal sealed record Classification(RunStatus Status, int? Signal, LimitBreach? Breach, string? Message);
