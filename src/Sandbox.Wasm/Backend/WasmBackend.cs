using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Sandbox.Core.Errors;
using Sandbox.Core.Execution;
using Sandbox.Core.Limits;
using Sandbox.Core.Profiles;
using Sandbox.Core.Runs;
using Sandbox.Wasm.Decoding;
using Sandbox.Wasm.Worker;

namespace Sandbox.Wasm.Backend;

/// <summary>
/// Runs a plan on our own WebAssembly engine in a worker process: one fresh worker per run, started inside
/// bubblewrap namespaces as uid 65534 in the run's own cgroup, spoken to over a framed pipe protocol
/// (<see cref="WorkerFrames"/>). The service never runs guest code itself: whatever a module does to the engine
/// (a JIT blow-up, a runaway allocation, a crash) happens in a process the kernel caps and the service can always kill.
/// </summary>
/// <remarks>
/// Limits are the kernel's and the service's, not the engine's alone: <c>cpuTimeMs</c> is the CPU time of the run's
/// cgroup (sampled every few milliseconds, SIGKILL when spent), the wall-clock deadline is a SIGKILL from the service
/// shortly after the worker's own interrupt, memory is the cgroup's limit (the guest's <c>memoryBytes</c> plus the
/// worker's measured overhead) under a managed-heap hard limit that fails first. The engine still caps linear memory,
/// tables, <c>/tmp</c> and output itself, and an optional <c>fuel</c> budget stops a guest deterministically.
/// For the language <c>wasm</c> the caller's code is the module itself (base64); other wasm profiles name a guest
/// module (an interpreter) and the code is written to <c>/tmp/&lt;sourceFile&gt;</c> for it.
/// </remarks>
public sealed partial class WasmBackend : IExecutionBackend
{
    /// <summary>The language whose code is the module itself (base64).</summary>
    public const string ModuleLanguage = LanguageNames.Wasm;

    /// <summary>Largest frame the service accepts from a worker: an output chunk or the result.</summary>
    private const int MaxWorkerFrameBytes = WorkerFrames.MaxOutputChunkBytes;

    /// <summary>Bytes of a worker's own stderr kept for the log when it fails.</summary>
    private const int DiagnosticsBytes = 4096;

    private readonly TimeProvider _time;
    private readonly ILogger<WasmBackend> _logger;
    private readonly WasmWorkerOptions _options;
    private readonly CgroupLayout? _cgroups;

    public WasmBackend(TimeProvider time, ILogger<WasmBackend> logger, WasmWorkerOptions? options = null)
    {
        _time = time;
        _logger = logger;
        _options = options ?? new WasmWorkerOptions();
        _cgroups = WorkerCgroup.Detect();
        if (_cgroups is not null && OperatingSystem.IsLinux() && geteuid() == 0)
        {
            WorkerCgroup.SweepStale(_cgroups, TimeSpan.FromMinutes(1), time);
        }
    }

    /// <summary>The clock its deadlines, waits and timings run on: the composition root's, so a test's fake clock reaches them.</summary>
    public TimeProvider Time => _time;

    public string Name => BackendNames.Wasm;

    // Guest modules are the operator's files and rarely change; each is probed once per path and write time.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Path, DateTime Written), long?> _initialMemory = new();

    /// <summary>
    /// A guest module cannot start below its initial linear memory (python.wasm asks for 160 pages, 10 MiB), so a
    /// request for less is rejected at validation, not reported as a failed or killed run. The caller's own module
    /// (language <c>wasm</c>) is only known at run time: its minimum is reported as <c>memory_limit</c> then.
    /// </summary>
    public BackendMinimums MinimumsFor(Profile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (profile.Language == ModuleLanguage || profile.Module is not { } module)
        {
            return BackendMinimums.None;
        }

        try
        {
            var path = profile.ResolvePath(module);
            var key = (path, File.GetLastWriteTimeUtc(path));
            var bytes = _initialMemory.GetOrAdd(key, static k => File.Exists(k.Path) ? MemoryMinimumProbe.InitialMemoryBytes(File.ReadAllBytes(k.Path)) : null);
            return bytes is > 0 ? new BackendMinimums { MemoryBytes = bytes.Value, MemoryReason = "the guest module's initial memory" } : BackendMinimums.None;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A module not built yet fails its runs with sandbox_error ("run make guests"); validation has nothing to add.
            return BackendMinimums.None;
        }
    }

    /// <summary>Null when this host can run workers; otherwise what is missing, for <c>sandbox doctor</c> and the refusal.</summary>
    public string? Unavailable =>
        (WorkerLauncher.FindMissing(_options) is { } missing ? missing + " is missing" : null)
        ?? (_cgroups is null ? "no cgroup memory/cpu hierarchy is mounted under /sys/fs/cgroup" : null)
        ?? (OperatingSystem.IsLinux() && geteuid() != 0 ? "the service must run as root to make the worker's cgroup" : null);

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

        if (Unavailable is { } why)
        {
            // Fail closed: without the worker's isolation the engine does not run at all, never in-process.
            throw new SandboxInfrastructureException($"the WebAssembly worker cannot start on this host: {why}; run 'sandbox doctor'");
        }

        var preopens = plan.Profile.Preopens.Select(p => plan.Profile.ResolvePath(p.Value)).ToList();
        foreach (var preopen in preopens.Where(p => !Directory.Exists(p)))
        {
            throw new SandboxInfrastructureException($"a preopen of profile '{plan.Profile.Name}' is missing; fix its 'preopens' or run 'make guests'");
        }

        var run = new WorkerRun(this, plan, bytes, callerModule, preopens);
        return await run.ExecuteAsync(cancellationToken);
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

    /// <summary>Why the service killed a worker; the first reason wins.</summary>
    private enum KillReason
    {
        None,
        Deadline,
        Cpu,
        Output,
        Cancelled,
        Protocol,
    }

    /// <summary>One run's worker: starts it, feeds it, reads it, watches its clock and CPU, and turns what happened into a result.</summary>
    private sealed class WorkerRun(WasmBackend backend, RunPlan plan, byte[] module, bool callerModule, IReadOnlyList<string> preopens)
    {
        private readonly ArrayBufferWriter<byte> _stdout = new();
        private readonly ArrayBufferWriter<byte> _stderr = new();
        private readonly Lock _lock = new();
        private KillReason _killed;
        private WasmOutcome? _outcome;
        private long? _cpuBaselineNanos;
        private long _memoryBaselineBytes;
        private bool _outputOverflowStdout;
        private string _diagnostics = "";

        private ResourceLimits Limits => plan.Limits;

        public async Task<RunResult> ExecuteAsync(CancellationToken cancellationToken)
        {
            var options = backend._options;
            var limits = Limits;
            var request = Request();
            var requestBytes = JsonSerializer.SerializeToUtf8Bytes(request, WorkerJsonContext.Default.WorkerRequest);

            // The managed heap holds the guest's memory and tables, /tmp, the output kept, the request and the module
            // in its decoded forms; the runtime's own needs come on top. The cgroup adds native headroom (JIT code, stacks).
            var heapLimit = checked(limits.MemoryBytes + limits.TmpBytes + limits.StdoutBytes + limits.StderrBytes
                + (2L * requestBytes.Length) + (6L * module.Length) + options.RuntimeOverheadBytes);
            var cgroupLimit = checked(heapLimit + options.NativeHeadroomBytes);

            using var cgroup = CreateCgroup(cgroupLimit);
            var started = backend._time.GetTimestamp();
            using var process = new Process { StartInfo = WorkerLauncher.StartInfo(options, cgroup, preopens, heapLimit, options.CommandOverride) };
            try
            {
                process.Start();
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
            {
                throw new SandboxInfrastructureException("the WebAssembly worker could not be started; run 'sandbox doctor'", e);
            }

            Log.WorkerStarted(backend._logger, plan.RunId, process.Id, cgroupLimit);
            var feeding = FeedAsync(process, requestBytes);
            var reading = ReadFramesAsync(process, cgroup);
            var diagnostics = ReadDiagnosticsAsync(process);
            await WatchAsync(process, cgroup, started, cancellationToken);

            // The worker is gone; its pipes end when every process holding them is (the cgroup is killed on dispose).
            cgroup.KillAll();
            await Task.WhenAll(feeding, reading, diagnostics);
            var usage = new ResourceUsage
            {
                WallMs = (long)backend._time.GetElapsedTime(started).TotalMilliseconds,
                CpuMs = CpuMs(cgroup),
                PeakMemoryBytes = Math.Max(_outcome?.GuestMemoryBytes ?? 0, Math.Max(0, (cgroup.PeakMemoryBytes() ?? 0) - _memoryBaselineBytes)),
                OutputBytes = _stdout.WrittenCount + _stderr.WrittenCount,
            };

            if (_killed == KillReason.Cancelled)
            {
                throw new OperationCanceledException("the run was cancelled", cancellationToken);
            }

            var result = Classify(process.ExitCode, cgroup.OomKilled(), usage);
            Log.WorkerEnded(backend._logger, plan.RunId, process.ExitCode, _killed.ToString(), usage.CpuMs, usage.PeakMemoryBytes);
            return result with
            {
                RunId = plan.RunId,
                Stdout = Encoding.UTF8.GetString(_stdout.WrittenSpan),
                StdoutBytes = _stdout.WrittenMemory.ToArray(),
                StdoutTruncated = _outcome?.StdoutTruncated == true || (_killed == KillReason.Output && _outputOverflowStdout),
                Stderr = Encoding.UTF8.GetString(_stderr.WrittenSpan),
                StderrBytes = _stderr.WrittenMemory.ToArray(),
                StderrTruncated = _outcome?.StderrTruncated == true || (_killed == KillReason.Output && !_outputOverflowStdout),
                Usage = usage,
                Runtime = RuntimeNames.Bubblewrap,
            };
        }

        private WorkerCgroup CreateCgroup(long limitBytes)
        {
            try
            {
                // Unique even if a run id were reused (a retry, a replay, tests): another run's cleanup must never kill this worker.
                return WorkerCgroup.Create(backend._cgroups!, plan.RunId + "-" + Guid.NewGuid().ToString("N")[..8], limitBytes, backend._options.Pids);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new SandboxInfrastructureException("the WebAssembly worker's cgroup could not be made (the service must run as root on a host with cgroup memory, cpu and pids controllers)", e);
            }
        }

        private WorkerRequest Request()
        {
            var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
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
            return new WorkerRequest
            {
                RunId = plan.RunId,
                Args = args,
                Environment = plan.Profile.Environment,
                Stdin = plan.Request.Stdin is { } stdin ? Encoding.UTF8.GetBytes(stdin) : [],
                Files = files,
                Preopens = [.. plan.Profile.Preopens.Keys.Select((guest, i) => new WorkerPreopen(guest, WorkerLauncher.PreopenPath(i)))],
                MemoryBytes = Limits.MemoryBytes,
                TmpBytes = Limits.TmpBytes,
                FileSizeBytes = Limits.FileSizeBytes,
                StdoutBytes = Limits.StdoutBytes,
                StderrBytes = Limits.StderrBytes,
                Fuel = plan.Profile.Fuel,
                // The worker's start-up (tens of milliseconds) counts against the wall clock like everything else.
                DeadlineMs = Limits.WallTimeMs,
                CallerModule = callerModule,
            };
        }

        private async Task FeedAsync(Process process, byte[] requestBytes)
        {
            var input = process.StandardInput.BaseStream;
            try
            {
                await WorkerFrames.WriteAsync(input, FrameType.Request, requestBytes, CancellationToken.None);
                await WorkerFrames.WriteAsync(input, FrameType.Module, module, CancellationToken.None);
                await input.FlushAsync();
            }
            catch (IOException)
            {
                // The worker died or was killed before reading everything; its exit tells the rest.
            }
            finally
            {
                try
                {
                    input.Dispose();
                }
                catch (IOException)
                {
                }
            }
        }

        private async Task ReadFramesAsync(Process process, WorkerCgroup cgroup)
        {
            var output = process.StandardOutput.BaseStream;
            try
            {
                while (await WorkerFrames.ReadAsync(output, MaxWorkerFrameBytes, CancellationToken.None) is { } frame)
                {
                    if (!Accept(frame, cgroup))
                    {
                        Kill(KillReason.Protocol, cgroup);
                        return;
                    }
                }
            }
            catch (Exception e) when (e is InvalidDataException or IOException or JsonException)
            {
                // Garbage from the worker: it is not trusted past the frame bounds, so it is killed and the run is ours to fail.
                Log.WorkerProtocolError(backend._logger, plan.RunId, e.Message);
                Kill(KillReason.Protocol, cgroup);
            }
        }

        /// <summary>Takes one frame from the worker; false when it breaks the protocol.</summary>
        private bool Accept(Frame frame, WorkerCgroup cgroup)
        {
            switch (frame.Type)
            {
                case FrameType.Ready when _cpuBaselineNanos is null && _outcome is null:
                    // The runtime has started and read the request: from here on, CPU and memory are the run's.
                    _cpuBaselineNanos = cgroup.CpuNanos() ?? 0;
                    _memoryBaselineBytes = cgroup.CurrentMemoryBytes() ?? 0;
                    return true;
                case FrameType.Stdout or FrameType.Stderr when _cpuBaselineNanos is not null && _outcome is null:
                    var isStdout = frame.Type == FrameType.Stdout;
                    var (buffer, cap) = isStdout ? (_stdout, Limits.StdoutBytes) : (_stderr, Limits.StderrBytes);
                    var room = (int)Math.Max(0, Math.Min(cap - buffer.WrittenCount, frame.Payload.Length));
                    buffer.Write(frame.Payload.AsSpan(0, room));
                    if (room > 0)
                    {
                        plan.Output?.Write(isStdout ? OutputStreamKind.Stdout : OutputStreamKind.Stderr, frame.Payload.AsSpan(0, room));
                    }

                    if (room < frame.Payload.Length)
                    {
                        // The engine stops a guest at its cap; a worker that sends more is enforced here too.
                        _outputOverflowStdout = isStdout;
                        Kill(KillReason.Output, cgroup);
                    }

                    return true;
                case FrameType.Result when _cpuBaselineNanos is not null && _outcome is null:
                    _outcome = JsonSerializer.Deserialize(frame.Payload, WorkerJsonContext.Default.WasmOutcome) ?? throw new JsonException("a null result");
                    return true;
                default:
                    Log.WorkerProtocolError(backend._logger, plan.RunId, $"unexpected {frame.Type} frame");
                    return false;
            }
        }

        private async Task ReadDiagnosticsAsync(Process process)
        {
            // The worker's own stderr (runtime failures, never the guest's output): the last few KiB, for the log.
            var buffer = new char[DiagnosticsBytes];
            var kept = new StringBuilder();
            try
            {
                int read;
                while ((read = await process.StandardError.ReadAsync(buffer, CancellationToken.None)) > 0)
                {
                    kept.Append(buffer, 0, read);
                    if (kept.Length > DiagnosticsBytes)
                    {
                        kept.Remove(0, kept.Length - DiagnosticsBytes);
                    }
                }
            }
            catch (IOException)
            {
            }

            _diagnostics = kept.ToString();
        }

        /// <summary>Waits for the worker to exit, killing it at the deadline, when its CPU time is spent, or when the caller cancels.</summary>
        private async Task WatchAsync(Process process, WorkerCgroup cgroup, long started, CancellationToken cancellationToken)
        {
            var options = backend._options;
            var exited = process.WaitForExitAsync(CancellationToken.None);
            var deadline = TimeSpan.FromMilliseconds(Limits.WallTimeMs) + options.DeadlineGrace;
            var cpuLimitNanos = Limits.CpuTimeMs * 1_000_000;
            while (!exited.IsCompleted)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    Kill(KillReason.Cancelled, cgroup);
                    break;
                }

                var elapsed = backend._time.GetElapsedTime(started);
                if (elapsed >= deadline)
                {
                    Kill(KillReason.Deadline, cgroup);
                    break;
                }

                var pause = options.CpuPollInterval;
                if (_cpuBaselineNanos is { } baseline && cgroup.CpuNanos() is { } cpu)
                {
                    var left = cpuLimitNanos - (cpu - baseline);
                    if (left <= 0 && _outcome is null)
                    {
                        Kill(KillReason.Cpu, cgroup);
                        break;
                    }

                    // Near the limit, look again sooner: CPU can be spent no faster than one core's worth per unit of wall time.
                    pause = TimeSpan.FromTicks(Math.Clamp(left / 100, TimeSpan.TicksPerMillisecond, pause.Ticks));
                }

                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks, Math.Max(TimeSpan.TicksPerMillisecond, (deadline - elapsed).Ticks)));
                try
                {
                    await exited.WaitAsync(pause, backend._time, cancellationToken);
                }
                catch (TimeoutException)
                {
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                }
            }

            // After a kill, the process ends within milliseconds: the kernel does not wait for it to agree.
            await exited.WaitAsync(TimeSpan.FromSeconds(10), backend._time, CancellationToken.None);
        }

        private void Kill(KillReason reason, WorkerCgroup cgroup)
        {
            lock (_lock)
            {
                if (_killed == KillReason.None && !(_outcome is not null && reason is KillReason.Deadline or KillReason.Cpu))
                {
                    _killed = reason;
                }
            }

            cgroup.KillAll();
        }

        private long CpuMs(WorkerCgroup cgroup)
        {
            var nanos = (cgroup.CpuNanos() ?? 0) - (_cpuBaselineNanos ?? cgroup.CpuNanos() ?? 0);
            return (Math.Max(0, nanos) + 999_999) / 1_000_000;
        }

        /// <summary>
        /// What happened, first match wins: a result the worker delivered before any kill is the truth (a guest that
        /// finished on time is never a timeout); then the service's own kills; then the kernel's OOM kill; anything
        /// else is our failure.
        /// </summary>
        private RunResult Classify(int exitCode, bool oomKilled, ResourceUsage usage)
        {
            var limits = Limits;
            if (_outcome is { } outcome && _killed is KillReason.None)
            {
                if (outcome.Failure is { } failure)
                {
                    Log.EngineFailed(backend._logger, plan.RunId, failure);
                    throw new SandboxInfrastructureException("the WebAssembly engine failed on this run; the failure is logged");
                }

                return WasmOutcomeClassifier.Classify(outcome, limits, usage, callerModule, plan.Profile);
            }

            switch (_killed)
            {
                case KillReason.Deadline:
                    return WasmOutcomeClassifier.Timeout(limits, usage);
                case KillReason.Cpu:
                    return WasmOutcomeClassifier.CpuLimit(limits, usage);
                case KillReason.Output:
                    return WasmOutcomeClassifier.OutputLimit(_outputOverflowStdout ? OutputStreamKind.Stdout : OutputStreamKind.Stderr, limits, usage);
                case KillReason.Protocol:
                    throw new SandboxInfrastructureException("the WebAssembly worker broke its protocol and was killed; the details are logged");
            }

            if (oomKilled || _diagnostics.Contains("OutOfMemory", StringComparison.Ordinal) || _diagnostics.Contains("Out of memory", StringComparison.OrdinalIgnoreCase))
            {
                return WasmOutcomeClassifier.MemoryLimit(limits, usage, "the worker ran out of memory");
            }

            Log.WorkerDied(backend._logger, plan.RunId, exitCode, _diagnostics);
            throw new SandboxInfrastructureException(
                exitCode == WorkerLauncher.CgroupJoinFailed ? "the WebAssembly worker could not join its cgroup; run 'sandbox doctor'"
                : _cpuBaselineNanos is null && _diagnostics.StartsWith("bwrap:", StringComparison.Ordinal)
                    ? "the WebAssembly worker's sandbox could not be set up (its folder and the profile's preopens must be readable by uid 65534); the details are logged"
                : $"the WebAssembly worker exited ({exitCode}) without a result; the details are logged");
        }
    }

    [System.Runtime.InteropServices.DllImport("libc")]
#pragma warning disable SYSLIB1054 // A plain libc call without arguments; LibraryImport would need unsafe code in this project.
    private static extern uint geteuid();
#pragma warning restore SYSLIB1054

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Run {RunId}: the WebAssembly engine failed: {Failure}")]
        public static partial void EngineFailed(ILogger logger, string runId, string failure);

        [LoggerMessage(2, LogLevel.Debug, "Run {RunId}: WebAssembly worker {Pid} started, cgroup memory limit {LimitBytes} bytes")]
        public static partial void WorkerStarted(ILogger logger, string runId, int pid, long limitBytes);

        [LoggerMessage(3, LogLevel.Debug, "Run {RunId}: WebAssembly worker exited {ExitCode} (killed: {Killed}), cpu {CpuMs} ms, peak {PeakBytes} bytes")]
        public static partial void WorkerEnded(ILogger logger, string runId, int exitCode, string killed, long cpuMs, long peakBytes);

        [LoggerMessage(4, LogLevel.Error, "Run {RunId}: the WebAssembly worker broke its protocol: {Problem}")]
        public static partial void WorkerProtocolError(ILogger logger, string runId, string problem);

        [LoggerMessage(5, LogLevel.Error, "Run {RunId}: the WebAssembly worker exited {ExitCode} without a result; its stderr ends: {Diagnostics}")]
        public static partial void WorkerDied(ILogger logger, string runId, int exitCode, string diagnostics);
    }
}
