using Sandbox.Core.Errors;
using Sandbox.Core.Execution;
using Sandbox.Core.Limits;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;

namespace Sandbox.Wasm.Backend;

/// <summary>
/// Maps how a guest ended to a status, in priority order: our limits first (deadline, fuel, output, a refused
/// memory.grow followed by a failure, the worker's heap), then the program's own ending (proc_exit, trap).
/// The kills the service makes itself (deadline, CPU, output) have their own entry points with the same wording.
/// </summary>
internal static class WasmOutcomeClassifier
{
    public static RunResult Classify(WasmOutcome outcome, ResourceLimits limits, ResourceUsage usage, bool callerModule, Profile profile)
    {
        if (outcome.InvalidModule is { } invalid)
        {
            return callerModule
                ? RunResult.Rejected("", [new FieldError("code", "is not a valid WebAssembly module: " + invalid)])
                : throw new SandboxInfrastructureException($"the guest module of profile '{profile.Name}' does not load: {invalid}");
        }

        if (outcome.FilesRejected is { } files)
        {
            return RunResult.Rejected("", [new FieldError("files", "do not fit in /tmp: " + files)]);
        }

        if (outcome.Trap == WasmTrapKind.Interrupted)
        {
            return Timeout(limits, usage);
        }

        if (outcome.Trap == WasmTrapKind.OutOfFuel)
        {
            var fuel = profile.Fuel ?? 0;
            return Breach(RunStatus.CpuLimit, new LimitBreach(LimitNames.Fuel, fuel, outcome.FuelUsed ?? fuel),
                $"cpu_limit: executed more than the profile's fuel of {fuel} WebAssembly instructions and was stopped");
        }

        if (outcome.OutputLimit is { } stream)
        {
            return OutputLimit(stream, limits, usage);
        }

        if (outcome.OutOfMemory)
        {
            return MemoryLimit(limits, usage, "the engine's memory reached its limit");
        }

        if (outcome.MemoryMinimumRefused is { } minimum)
        {
            return MemoryLimit(limits, usage, minimum);
        }

        if (outcome.LinkError is { } link)
        {
            return callerModule
                ? RunResult.Rejected("", [new FieldError("code", "the module cannot be instantiated: " + link)])
                : throw new SandboxInfrastructureException($"the guest module of profile '{profile.Name}' does not link: {link}");
        }

        if (outcome.MissingStart)
        {
            return RunResult.Rejected("", [new FieldError("code", "the module must export a '_start' function of type [] -> [] (a WASI command)")]);
        }

        var failed = outcome.Trap is not null || outcome.ExitCode is not 0;
        if (failed && outcome.MemoryGrowRefused)
        {
            return MemoryLimit(limits, usage, "memory.grow was refused") with { ExitCode = outcome.ExitCode };
        }

        if (outcome.Trap is { } trap)
        {
            return new RunResult
            {
                RunId = "",
                Status = RunStatus.RuntimeError,
                Message = $"runtime_error: trap: {WasmTrapException.Describe(trap)} ({trap})",
            };
        }

        var exitCode = outcome.ExitCode ?? 0;
        return new RunResult { RunId = "", Status = exitCode == 0 ? RunStatus.Ok : RunStatus.RuntimeError, ExitCode = exitCode };
    }

    public static RunResult Timeout(ResourceLimits limits, ResourceUsage usage) =>
        Breach(RunStatus.Timeout, new LimitBreach(LimitNames.WallTimeMs, limits.WallTimeMs, usage.WallMs),
            $"timeout: ran past the {limits.WallTimeMs} ms wall-clock deadline and was stopped");

    public static RunResult CpuLimit(ResourceLimits limits, ResourceUsage usage) =>
        Breach(RunStatus.CpuLimit, new LimitBreach(LimitNames.CpuTimeMs, limits.CpuTimeMs, usage.CpuMs),
            $"cpu_limit: used more than the {limits.CpuTimeMs} ms of CPU time allowed and was killed");

    public static RunResult OutputLimit(OutputStreamKind stream, ResourceLimits limits, ResourceUsage usage)
    {
        var isStdout = stream == OutputStreamKind.Stdout;
        var (name, cap) = isStdout ? (LimitNames.StdoutBytes, limits.StdoutBytes) : (LimitNames.StderrBytes, limits.StderrBytes);
        return Breach(RunStatus.OutputLimit, new LimitBreach(name, cap, usage.OutputBytes),
            $"output_limit: wrote more than the {cap} bytes of {(isStdout ? "stdout" : "stderr")} allowed and was stopped");
    }

    public static RunResult MemoryLimit(ResourceLimits limits, ResourceUsage usage, string how) =>
        Breach(RunStatus.MemoryLimit, new LimitBreach(LimitNames.MemoryBytes, limits.MemoryBytes, usage.PeakMemoryBytes),
            $"memory_limit: needed more than the {limits.MemoryBytes} bytes of memory allowed ({how})");

    private static RunResult Breach(RunStatus status, LimitBreach breach, string message) =>
        new() { RunId = "", Status = status, LimitBreach = breach, Message = message };
}
