using Sandbox.Core.Errors;
using Sandbox.Core.Limits;
using Sandbox.Core.Runs;

namespace Sandbox.Wasm.Backend;

/// <summary>
/// Maps how a guest ended to a status, in priority order: our limits first (deadline, fuel, output, a
/// refused memory.grow followed by a failure), then the program's own ending (proc_exit, trap).
/// </summary>
internal static class WasmOutcomeClassifier
{
    public static RunResult Classify(WasmOutcome outcome, ResourceLimits limits, ResourceUsage usage, bool memoryGrowRefused, bool callerModule, string profile)
    {
        if (outcome.Trap?.Kind == WasmTrapKind.Interrupted)
        {
            return Breach(RunStatus.Timeout, new LimitBreach(LimitNames.WallTimeMs, limits.WallTimeMs, usage.WallMs),
                $"timeout: ran past the {limits.WallTimeMs} ms wall-clock deadline and was stopped");
        }

        if (outcome.Trap?.Kind == WasmTrapKind.OutOfFuel)
        {
            return Breach(RunStatus.CpuLimit, new LimitBreach(LimitNames.CpuTimeMs, limits.CpuTimeMs, usage.CpuMs),
                $"cpu_limit: used more than the {limits.CpuTimeMs} ms of CPU time allowed ({WasmBackend.FuelPerMs} instructions per ms) and was stopped");
        }

        if (outcome.Output is { } output)
        {
            var (name, cap) = output.IsStdout ? (LimitNames.StdoutBytes, limits.StdoutBytes) : (LimitNames.StderrBytes, limits.StderrBytes);
            return Breach(RunStatus.OutputLimit, new LimitBreach(name, cap, usage.OutputBytes),
                $"output_limit: wrote more than the {cap} bytes of {(output.IsStdout ? "stdout" : "stderr")} allowed and was stopped");
        }

        if (outcome.Link is { } link)
        {
            if (!callerModule)
            {
                throw new SandboxInfrastructureException($"the guest module of profile '{profile}' does not link: {link.Message}", link);
            }

            return RunResult.Rejected("", [new FieldError("code", "the module cannot be instantiated: " + link.Message)]);
        }

        if (outcome.MissingStart)
        {
            return RunResult.Rejected("", [new FieldError("code", "the module must export a '_start' function of type [] -> [] (a WASI command)")]);
        }

        var failed = outcome.Trap is not null || outcome.ExitCode is not 0;
        if (failed && memoryGrowRefused)
        {
            return Breach(RunStatus.MemoryLimit, new LimitBreach(LimitNames.MemoryBytes, limits.MemoryBytes, usage.PeakMemoryBytes),
                $"memory_limit: needed more than the {limits.MemoryBytes} bytes of memory allowed (memory.grow was refused)") with { ExitCode = outcome.ExitCode };
        }

        if (outcome.Trap is { } trap)
        {
            return new RunResult
            {
                RunId = "",
                Status = RunStatus.RuntimeError,
                Message = $"runtime_error: trap: {WasmTrapException.Describe(trap.Kind)} ({trap.Kind})",
            };
        }

        var exitCode = outcome.ExitCode ?? 0;
        return new RunResult { RunId = "", Status = exitCode == 0 ? RunStatus.Ok : RunStatus.RuntimeError, ExitCode = exitCode };
    }

    private static RunResult Breach(RunStatus status, LimitBreach breach, string message) =>
        new() { RunId = "", Status = status, LimitBreach = breach, Message = message };
}
