using System.Text;
using Microsoft.Extensions.Logging;
using Sandbox.Core.Errors;
using Sandbox.Core.Execution;
using Sandbox.Core.Limits;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Wasm.Wasi;

namespace Sandbox.Wasm.Backend;

/// <summary>
/// Runs a plan in-process on our own WebAssembly engine: one fresh engine, WASI host and instance per run,
/// on the engine's dedicated execution thread, so nothing a guest does outlives its run. For the language
/// <c>wasm</c> the caller's code is the module itself, base64-encoded; other wasm profiles name a guest
/// module (an interpreter) and the code is written to <c>/tmp/&lt;sourceFile&gt;</c> for it.
/// </summary>
/// <remarks>
/// The CPU limit is enforced in fuel (WebAssembly instructions, charged per basic block), not host CPU time:
/// it is deterministic, so the same program stops at the same point whatever else the machine runs.
/// <see cref="RunResult.Usage"/>'s <c>cpuMs</c> is the real CPU time of the execution thread (user + system,
/// from the thread's CPU clock), so it reports what the run actually cost; a <c>cpu_limit</c> breach reports
/// that observed value too, which may differ from the limit because fuel, not the clock, stopped the guest.
/// Where the thread clock is unavailable (not Linux) it falls back to the fuel used divided by <see cref="FuelPerMs"/>.
/// </remarks>
public sealed partial class WasmBackend : IExecutionBackend
{
    /// <summary>
    /// Fuel granted per millisecond of <c>cpuTimeMs</c>, calibrated on typical guest code: measured on the
    /// 2-core CI machine, compiled C (clang -O2) runs about 700 000 WebAssembly instructions per ms under our
    /// interpreter, CPython 3.11's eval loop about 1 100 000, and a bare one-instruction loop about 210 000.
    /// So <c>cpuMs</c> tracks real CPU time for ordinary programs; a pathological tight loop can use up to
    /// about 3 times its budget in real time, and the wall-clock deadline bounds it in every case.
    /// </summary>
    public const long FuelPerMs = 700_000;

    /// <summary>The language whose code is the module itself (base64).</summary>
    public const string ModuleLanguage = LanguageNames.Wasm;

    private readonly TimeProvider _time;
    private readonly ILogger<WasmBackend> _logger;

    public WasmBackend(TimeProvider time, ILogger<WasmBackend> logger)
    {
        _time = time;
        _logger = logger;
    }

    public string Name => BackendNames.Wasm;

    public async Task<RunResult> ExecuteAsync(RunPlan plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        cancellationToken.ThrowIfCancellationRequested();
        var callerModule = plan.Request.Language == ModuleLanguage;
        byte[] bytes;
        if (callerModule)
        {
            try
            {
                bytes = Convert.FromBase64String(plan.Request.Code.Trim());
            }
            catch (FormatException)
            {
                return RunResult.Rejected(plan.RunId, [new FieldError("code", "for the language 'wasm' must be the module's bytes in base64")], plan.Request.Language);
            }
        }
        else
        {
            bytes = await LoadProfileModuleAsync(plan.Profile, cancellationToken);
        }

        // A long-running task: the run blocks its thread while the guest executes on the engine's own thread.
        return await Task.Factory.StartNew(
            () => Run(plan, bytes, callerModule, cancellationToken),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
    }

    private static async Task<byte[]> LoadProfileModuleAsync(Profile profile, CancellationToken cancellationToken)
    {
        if (profile.Module is not { } module)
        {
            throw new SandboxInfrastructureException($"the profile '{profile.Name}' names no guest module; fix its 'module' field");
        }

        try
        {
            return await File.ReadAllBytesAsync(profile.ResolvePath(module), cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SandboxInfrastructureException($"the guest module of profile '{profile.Name}' cannot be read; run 'make build' or fix its 'module' field", e);
        }
    }

    private RunResult Run(RunPlan plan, byte[] bytes, bool callerModule, CancellationToken cancellationToken)
    {
        var limits = plan.Limits;
        var engine = new WasmEngine(new WasmEngineOptions
        {
            // Linear memory is the guest's whole heap and stack: the memory limit is its page cap.
            MaxMemoryPages = (int)Math.Clamp(limits.MemoryBytes / WasmMemory.PageSize, 1, WasmEngine.MaxPagesInArray),
        });

        WasmModule module;
        try
        {
            module = engine.Compile(bytes);
        }
        catch (Exception e) when (e is WasmDecodeException or WasmValidationException)
        {
            if (callerModule)
            {
                return RunResult.Rejected(plan.RunId, [new FieldError("code", "is not a valid WebAssembly module: " + e.Message)], plan.Request.Language);
            }

            throw new SandboxInfrastructureException($"the guest module of profile '{plan.Profile.Name}' does not load: {e.Message}", e);
        }

        // The deadline interrupts the guest (at its next call or loop back-edge, or in a poll_oneoff sleep);
        // the caller's cancellation does the same and then surfaces as OperationCanceledException.
        using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(limits.WallTimeMs), _time);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        using var interrupt = stop.Token.Register(engine.RequestInterrupt);

        WasiHost wasi;
        try
        {
            wasi = new WasiHost(WasiOptionsFor(plan, callerModule, stop.Token));
        }
        catch (ArgumentException e)
        {
            return RunResult.Rejected(plan.RunId, [new FieldError("files", "do not fit in /tmp: " + e.Message)], plan.Request.Language);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new SandboxInfrastructureException($"a preopen of profile '{plan.Profile.Name}' is missing; fix its 'preopens'", e);
        }

        using (wasi)
        {
            var linker = new WasmLinker();
            wasi.Define(engine, linker);
            var fuel = checked(limits.CpuTimeMs * FuelPerMs);
            engine.Fuel = fuel;
            var started = _time.GetTimestamp();
            WasmInstance? instance = null;
            var outcome = Execute(engine, module, linker, i => instance = i, out var cpu);

            // Memory only grows, so its final size is the high-water mark.
            var memory = instance?.Memory ?? wasi.CallerMemory;
            var usage = new ResourceUsage
            {
                WallMs = (long)_time.GetElapsedTime(started).TotalMilliseconds,
                CpuMs = cpu is { } measured
                    ? (long)Math.Ceiling(measured.TotalMilliseconds)
                    : (fuel - engine.Fuel + FuelPerMs - 1) / FuelPerMs,
                PeakMemoryBytes = memory is null ? 0 : (long)memory.Pages * WasmMemory.PageSize,
                OutputBytes = wasi.OutputBytes,
            };

            if (outcome.Trap?.Kind == WasmTrapKind.Interrupted && cancellationToken.IsCancellationRequested && !deadline.IsCancellationRequested)
            {
                throw new OperationCanceledException("the run was cancelled", cancellationToken);
            }

            if (outcome.Failure is { } failure)
            {
                Log.EngineFailed(_logger, plan.RunId, failure);
                throw new SandboxInfrastructureException("the WebAssembly engine failed on this run; the failure is logged", failure);
            }

            var result = WasmOutcomeClassifier.Classify(outcome, limits, usage, memory?.GrowRefusedByCap == true, callerModule, plan.Profile.Name);
            return result with
            {
                RunId = plan.RunId,
                Stdout = Encoding.UTF8.GetString(wasi.Stdout.Span),
                StdoutBytes = wasi.Stdout.ToArray(),
                StdoutTruncated = wasi.StdoutTruncated,
                Stderr = Encoding.UTF8.GetString(wasi.Stderr.Span),
                StderrBytes = wasi.Stderr.ToArray(),
                StderrTruncated = wasi.StderrTruncated,
                Usage = usage,
            };
        }
    }

    /// <summary>
    /// Instantiates and runs <c>_start</c> on the engine's execution thread; every way it can end becomes a value.
    /// <paramref name="cpu"/> is the CPU time that thread used (null where the thread clock is unavailable).
    /// </summary>
    private static WasmOutcome Execute(WasmEngine engine, WasmModule module, WasmLinker linker, Action<WasmInstance> instantiated, out TimeSpan? cpu)
    {
        // Read on the execution thread itself, before and after the guest, however it ends: the thread
        // clock of any other thread would not see the guest's work.
        TimeSpan? used = null;
        try
        {
            return engine.RunOnExecutionThread(() =>
            {
                var cpuStart = ThreadCpuClock.Now();
                try
                {
                    return RunStart(engine, module, linker, instantiated);
                }
                finally
                {
                    used = ThreadCpuClock.Now() - cpuStart;
                }
            });
        }
        catch (WasiExitException exit)
        {
            return new WasmOutcome { ExitCode = exit.ExitCode };
        }
        catch (WasmTrapException trap)
        {
            return new WasmOutcome { Trap = trap };
        }
        catch (WasiOutputLimitException output)
        {
            return new WasmOutcome { Output = output };
        }
        catch (WasmLinkException link)
        {
            return new WasmOutcome { Link = link };
        }
#pragma warning disable CA1031 // Anything else is our own failure: the host survives and reports sandbox_error.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return new WasmOutcome { Failure = e };
        }
        finally
        {
            cpu = used;
        }
    }

    private static WasmOutcome RunStart(WasmEngine engine, WasmModule module, WasmLinker linker, Action<WasmInstance> instantiated)
    {
        // proc_exit or a trap may come from the start function, inside Instantiate.
        var instance = engine.Instantiate(module, linker);
        instantiated(instance);
        if (instance.GetFunction("_start") is not { } start)
        {
            return new WasmOutcome { MissingStart = true };
        }

        if (start.ParameterCount != 0 || start.ResultCount != 0)
        {
            return new WasmOutcome { MissingStart = true };
        }

        engine.Invoke(start);
        return new WasmOutcome { ExitCode = 0 };
    }

    private static WasiOptions WasiOptionsFor(RunPlan plan, bool callerModule, CancellationToken interrupt)
    {
        var limits = plan.Limits;
        var files = new Dictionary<string, ReadOnlyMemory<byte>>(StringComparer.Ordinal);
        foreach (var file in plan.Request.Files ?? [])
        {
            files[file.Path] = Encoding.UTF8.GetBytes(file.Content);
        }

        if (!callerModule)
        {
            files[plan.Profile.SourceFile] = Encoding.UTF8.GetBytes(plan.Request.Code);
        }

        IReadOnlyList<string> args = plan.Profile.Command.Count > 0
            ? plan.Profile.Command
            : callerModule ? [plan.Profile.SourceFile] : [Path.GetFileName(plan.Profile.Module ?? "guest"), "/tmp/" + plan.Profile.SourceFile];

        return new WasiOptions
        {
            // Only what the profile configures: the host's own argv and environment never reach the guest.
            Args = args,
            Environment = plan.Profile.Environment,
            Stdin = plan.Request.Stdin is { } stdin ? Encoding.UTF8.GetBytes(stdin) : ReadOnlyMemory<byte>.Empty,
            MaxStdoutBytes = (int)Math.Min(limits.StdoutBytes, int.MaxValue),
            MaxStderrBytes = (int)Math.Min(limits.StderrBytes, int.MaxValue),
            StopOnOutputLimit = true,
            Tmp = new WasiTmpOptions { MaxBytes = limits.TmpBytes, MaxFileBytes = limits.FileSizeBytes, Files = files },
            Preopens = [.. plan.Profile.Preopens.Select(p => new WasiPreopen(p.Key, plan.Profile.ResolvePath(p.Value)))],
            Interrupt = interrupt,
            Output = plan.Output,
        };
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Run {RunId}: the WebAssembly engine failed")]
        public static partial void EngineFailed(ILogger logger, string runId, Exception exception);
    }
}
