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
using Sandbox.Wasm.Execution;
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
public sealed partial class WasmBackend : IExecutionBackend, IDisposable
{
    /// <summary>The language whose code is the module itself (base64).</summary>
    public const string ModuleLanguage = LanguageNames.Wasm;

    /// <summary>Largest frame the service accepts from a worker: an output chunk or the result.</summary>
    private const int MaxWorkerFrameBytes = WorkerFrames.MaxOutputChunkBytes;

    private readonly TimeProvider _time;
    private readonly ILogger<WasmBackend> _logger;
    private readonly WasmWorkerOptions _options;

    // One name per backend for its warm workers' cgroups (warm-<this>-<worker>), so what it leaves is told from another
    // service's on the same host.
    private readonly string _warmName = "warm-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3));
    private readonly CgroupLayout? _cgroups;
    private readonly WarmWorkerPool? _warm;

    public WasmBackend(TimeProvider time, ILogger<WasmBackend> logger, WasmWorkerOptions? options = null)
    {
        _time = time;
        _logger = logger;
        _options = options ?? new WasmWorkerOptions();
        _cgroups = WorkerCgroup.Detect();
        _warm = _options.WarmWorkers > 0 ? new WarmWorkerPool(_options, time, logger) : null;
        if (_cgroups is not null && OperatingSystem.IsLinux() && geteuid() == 0)
        {
            WorkerCgroup.SweepStale(_cgroups, TimeSpan.FromMinutes(1), time);
        }
    }

    /// <summary>The clock its deadlines, waits and timings run on: the composition root's, so a test's fake clock reaches them.</summary>
    public TimeProvider Time => _time;

    public string Name => BackendNames.Wasm;

    /// <summary>Warm workers held now (parked or pre-initialising).</summary>
    public int WarmWorkerCount => _warm?.Count ?? 0;

    /// <summary>Warm workers parked now, ready for a run.</summary>
    public int ParkedWorkerCount => _warm?.ParkedCount ?? 0;

    /// <summary>How this backend's warm workers' cgroups begin (tests: what it leaves behind, and nobody else's).</summary>
    internal string WarmCgroupPrefix => _warmName + "-";

    /// <summary>The CPU weight of each parked worker's cgroup (tests).</summary>
    internal IReadOnlyList<string?> ParkedCpuWeights() => _warm?.ParkedCpuWeights() ?? [];

    /// <summary>The warm pool, for tests; null without warm workers.</summary>
    internal WarmWorkerPool? WarmPool => _warm;

    /// <summary>Warm workers that restored their profile's snapshot instead of running its start-up.</summary>
    public long WarmRestored => _warm?.Restored ?? 0;

    /// <summary>Runs that took a warm worker.</summary>
    public long WarmHits => Interlocked.Read(ref _warmHits);

    /// <summary>Runs that could have taken a warm worker (a pool exists for their profile and limits, or is being made) but started cold.</summary>
    public long WarmMisses => Interlocked.Read(ref _warmMisses);

    private long _warmHits;
    private long _warmMisses;

    /// <summary>
    /// Kills every warm worker, and waits (boundedly) for the workers of answered runs to end and their cgroups to go;
    /// runs in flight keep their own workers.
    /// </summary>
    public void Dispose()
    {
        _warm?.Dispose();
        if (!WhenWorkersEndedAsync().Wait(s_endingsTimeout))
        {
            Log.EndingsOutlived(_logger, EndingWorkerCount, s_endingsTimeout.TotalSeconds);
        }
    }

    /// <summary>Longest a dispose waits for answered runs' workers to end: each ending is itself bounded by its exit timeout.</summary>
    private static readonly TimeSpan s_endingsTimeout = TimeSpan.FromSeconds(15);

    private readonly Lock _endingsLock = new();
    private readonly HashSet<Task> _endings = [];

    /// <summary>Tests: every answered run's ending waits for this first, to show that the answer does not wait for the ending.</summary>
    internal Task? HoldEndings { get; set; }

    /// <summary>Workers of answered runs still ending now (killed at their result; exiting, or their cgroup being removed).</summary>
    public int EndingWorkerCount
    {
        get
        {
            lock (_endingsLock)
            {
                // Those completed but not yet removed (their removal runs just after) are ended.
                return _endings.Count(e => !e.IsCompleted);
            }
        }
    }

    /// <summary>
    /// Completes when every worker whose run has been answered so far has exited and its cgroup is removed: a run is
    /// answered at its worker's result, and the worker's ending follows in the background (tests, shutdown).
    /// </summary>
    public Task WhenWorkersEndedAsync()
    {
        lock (_endingsLock)
        {
            return Task.WhenAll(_endings);
        }
    }

    /// <summary>Holds an answered run's ending until it is done (it never throws: see WorkerRun.EndAsync).</summary>
    private void TrackEnding(Task ending)
    {
        lock (_endingsLock)
        {
            _endings.Add(ending);
        }

        _ = ending.ContinueWith(
            t =>
            {
                lock (_endingsLock)
                {
                    _endings.Remove(t);
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (long Length, DateTime Written, byte[] Bytes)> _modules = new(StringComparer.Ordinal);

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
        byte[]? bytes = null;
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

        var run = new WorkerRun(this, plan, callerModule, preopens);
        var warmKey = run.FitsWarm ? WarmKey(plan, run.Template) : null;
        try
        {
            if (warmKey is not null && await ClaimWarmAsync(plan.RunId, warmKey, cancellationToken) is { } warm)
            {
                return await run.ExecuteAsync(warm.Worker, module: null, warm.Claimed, cancellationToken);
            }

            if (warmKey is not null && await RestoreNowAsync(plan, warmKey, run, preopens, cancellationToken) is { } restored)
            {
                return await run.ExecuteAsync(restored.Worker, module: null, restored.Claimed, cancellationToken);
            }

            bytes ??= await LoadProfileModuleAsync(plan.Profile, cancellationToken);
            return await run.ExecuteColdAsync(bytes, cancellationToken);
        }
        finally
        {
            if (warmKey is not null)
            {
                // After the run, not before: its own refill (a whole guest start-up) must not compete with it for the CPU.
                _warm!.Refill(warmKey, mode => PrepareWarm(plan, run.Template, preopens, mode));
            }
        }
    }

    /// <summary>A parked (or still pre-initialising) worker for <paramref name="warmKey"/> and when it was claimed; null to start cold.</summary>
    private async Task<(WorkerProcess Worker, long Claimed)?> ClaimWarmAsync(string runId, string warmKey, CancellationToken cancellationToken)
    {
        if (_warm!.TryClaim(warmKey) is not { } warm)
        {
            Interlocked.Increment(ref _warmMisses);
            Log.WarmMissed(_logger, runId);
            return null;
        }

        var parked = warm.Ready.IsCompletedSuccessfully;

        // Claimed: its run gets the full weight, as a cold worker has (a worker still preparing has it already, and keeps it).
        warm.Claim();

        // The run's wall clock starts at the claim, waiting for a worker still pre-initialising included.
        var claimed = _time.GetTimestamp();
        WorkerProcess? worker;
        try
        {
            worker = await warm.Ready.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            warm.Release();
            throw;
        }

        if (worker is null || worker.Process.HasExited)
        {
            // It failed to prepare, or died while parked (killed from outside): this run starts cold instead.
            worker?.Dispose();
            Interlocked.Increment(ref _warmMisses);
            return null;
        }

        Interlocked.Increment(ref _warmHits);
        Log.WarmClaimed(_logger, runId, worker.Process.Id, parked ? "parked" : "still pre-initialising", (long)_time.GetElapsedTime(claimed).TotalMilliseconds);
        return (worker, claimed);
    }

    /// <summary>
    /// No warm worker was free: a worker restored from the profile's snapshot for this run (a process start and a copy of
    /// memory instead of the guest's start-up); null to start cold. Its wait counts against the run's deadline, as a
    /// claim of a worker still pre-initialising does; its restore is not charged to the run's CPU (the baseline is at Ready).
    /// </summary>
    private async Task<(WorkerProcess Worker, long Claimed)?> RestoreNowAsync(RunPlan plan, string warmKey, WorkerRun run, IReadOnlyList<string> preopens, CancellationToken cancellationToken)
    {
        var claimed = _time.GetTimestamp();
        if (_warm!.TryRestoreNow(warmKey, mode => PrepareWarm(plan, run.Template, preopens, mode)) is not { } restoring)
        {
            return null;
        }

        WorkerProcess? worker;
        try
        {
            worker = await restoring.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            WarmWorker.Release(restoring);
            throw;
        }

        if (worker is null || worker.Process.HasExited)
        {
            worker?.Dispose();
            return null;
        }

        Log.WarmClaimed(_logger, plan.RunId, worker.Process.Id, "restored for it", (long)_time.GetElapsedTime(claimed).TotalMilliseconds);
        return (worker, claimed);
    }

    /// <summary>
    /// The pool a run may take a warm worker from: the profile's module as it is on disk now and everything the guest sees
    /// or is sized by before its run (the request without run id, code, files and stdin). Null when the run starts cold:
    /// no pool, the caller's own module, a fuelled profile (pre-initialisation would spend its fuel), or a request too
    /// large for a warm worker's fixed heap limit.
    /// </summary>
    private string? WarmKey(RunPlan plan, WorkerRequest template)
    {
        if (_warm is null || template.CallerModule || template.Fuel is not null || plan.Profile.Module is not { } module)
        {
            return null;
        }

        var info = new FileInfo(plan.Profile.ResolvePath(module));
        if (!info.Exists)
        {
            return null;
        }

        var shared = JsonSerializer.Serialize(template with { RunId = "", Stdin = [], Files = new Dictionary<string, byte[]>(), DeadlineMs = 0 }, WorkerJsonContext.Default.WorkerRequest);
        return string.Join('\n', plan.Profile.Name, info.FullName, info.Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
            info.LastWriteTimeUtc.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture), shared);
    }

    /// <summary>Starts one warm worker for the run's profile and limits (on the pool's background task).</summary>
    private WarmPreparation PrepareWarm(RunPlan plan, WorkerRequest template, IReadOnlyList<string> preopens, WarmSnapshotMode mode)
    {
        var module = LoadProfileModuleAsync(plan.Profile, CancellationToken.None).GetAwaiter().GetResult();
        var prepared = template with { RunId = "warm", Stdin = [], Files = new Dictionary<string, byte[]>(), Snapshot = mode };

        // A snapshot is at most the guest's memory plus its call state and its module image (a few times the module); the
        // worker holds it twice (its bytes and their parse, or the capture and its bytes).
        var maxSnapshotBytes = (int)Math.Min(int.MaxValue - 1024, plan.Limits.MemoryBytes + WorkerRuntime.MaxModuleBytes);
        var snapshotBytes = mode == WarmSnapshotMode.None ? 0 : plan.Limits.MemoryBytes + ModuleImage.HeapBytes(module.Length);
        var (heapLimit, cgroupLimit) = WorkerLimits(plan.Limits, _options.WarmRequestAllowanceBytes + snapshotBytes, module.Length);
        var worker = WorkerProcess.Start(_options, _cgroups!, _warmName, cgroupLimit, heapLimit, preopens, _time);
        return new WarmPreparation(worker, JsonSerializer.SerializeToUtf8Bytes(prepared, WorkerJsonContext.Default.WorkerRequest), module, maxSnapshotBytes);
    }

    /// <summary>
    /// The managed heap holds the guest's memory and tables, /tmp, the output kept, the request and the module in its
    /// decoded forms; the runtime's own needs come on top. The cgroup adds native headroom (JIT code, stacks).
    /// </summary>
    private (long Heap, long Cgroup) WorkerLimits(ResourceLimits limits, long requestBytes, long moduleBytes)
    {
        var heapLimit = checked(limits.MemoryBytes + limits.TmpBytes + limits.StdoutBytes + limits.StderrBytes
            + (2L * requestBytes) + (6L * moduleBytes) + _options.RuntimeOverheadBytes);
        return (heapLimit, checked(heapLimit + _options.NativeHeadroomBytes));
    }

    /// <summary>
    /// The profile's guest module, read once per path, length and write time (as <see cref="WarmKey"/> tells a rebuilt
    /// module from the one before): every refill used to read it again (6.7 MB for python-wasm) into a new large-object
    /// array. The bytes are only ever sent to workers, never changed; one is held per module path.
    /// </summary>
    private async Task<byte[]> LoadProfileModuleAsync(Profile profile, CancellationToken cancellationToken)
    {
        if (profile.Module is not { } module)
        {
            throw new SandboxInfrastructureException($"the profile '{profile.Name}' names no guest module; fix its 'module' field");
        }

        try
        {
            var path = profile.ResolvePath(module);
            var info = new FileInfo(path);
            if (info.Exists && _modules.TryGetValue(path, out var held) && held.Length == info.Length && held.Written == info.LastWriteTimeUtc)
            {
                return held.Bytes;
            }

            var bytes = await File.ReadAllBytesAsync(path, cancellationToken);
            if (info.Exists && bytes.Length == info.Length)
            {
                // Held under what was seen before the read: a module rewritten meanwhile has a later write time, read again next.
                _modules[path] = (info.Length, info.LastWriteTimeUtc, bytes);
            }

            return bytes;
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
    private sealed class WorkerRun(WasmBackend backend, RunPlan plan, bool callerModule, IReadOnlyList<string> preopens)
    {
        /// <summary>How long a SIGKILLed worker may take to exit (the kernel does not wait for it to agree: milliseconds).</summary>
        private static readonly TimeSpan s_workerExitTimeout = TimeSpan.FromSeconds(10);

        private readonly ArrayBufferWriter<byte> _stdout = new();
        private readonly ArrayBufferWriter<byte> _stderr = new();
        private readonly Lock _lock = new();
        private readonly TaskCompletionSource _resultSeen = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private KillReason _killed;
        private bool _decided;
        private long _answeredTimestamp;
        private ResourceUsage? _usage;
        private WasmOutcome? _outcome;
        private long? _cpuBaselineNanos;
        private long _readyTimestamp;
        private long _resultTimestamp;
        private long _memoryBaselineBytes;
        private bool _outputOverflowStdout;
        private string _diagnostics = "";
        private WorkerRequest? _request;
        private byte[]? _requestBytes;
        private readonly WorkerArtifacts? _artifacts = plan.Profile.Artifacts.MaxFiles > 0 ? new WorkerArtifacts(plan.Profile.Artifacts) : null;

        private ResourceLimits Limits => plan.Limits;

        /// <summary>The run's request (built once).</summary>
        public WorkerRequest Template => _request ??= Request();

        private byte[] RequestBytes => _requestBytes ??= JsonSerializer.SerializeToUtf8Bytes(Template, WorkerJsonContext.Default.WorkerRequest);

        /// <summary>True when the request fits a warm worker's heap limit.</summary>
        public bool FitsWarm => RequestBytes.Length <= backend._options.WarmRequestAllowanceBytes;

        /// <summary>Starts a worker for this run alone (sized for its request) and runs it.</summary>
        public async Task<RunResult> ExecuteColdAsync(byte[] module, CancellationToken cancellationToken)
        {
            var (heapLimit, cgroupLimit) = backend.WorkerLimits(Limits, RequestBytes.Length, module.Length);
            var worker = WorkerProcess.Start(backend._options, backend._cgroups!, plan.RunId, cgroupLimit, heapLimit, preopens, backend._time);
            Log.WorkerStarted(backend._logger, plan.RunId, worker.Process.Id, cgroupLimit);
            return await ExecuteAsync(worker, module, worker.StartedTimestamp, cancellationToken);
        }

        /// <summary>
        /// Runs on <paramref name="worker"/>: a cold one gets the request and the <paramref name="module"/>; a warm one
        /// (module null) is parked and gets the request alone. The deadline runs from <paramref name="started"/>.
        /// A worker that delivers its result is answered for at once: its cgroup is killed at the result, and the rest of
        /// its ending (the process's exit, its pipes and stderr, the cgroup's removal) is the backend's, in the background
        /// (<see cref="WhenWorkersEndedAsync"/>). Every other run ends as before: after the worker has exited.
        /// </summary>
        public async Task<RunResult> ExecuteAsync(WorkerProcess worker, byte[]? module, long started, CancellationToken cancellationToken)
        {
            var handedOff = false;
            try
            {
                var process = worker.Process;
                var cgroup = worker.Cgroup;
                var feeding = FeedAsync(process, RequestBytes, module);
                var reading = ReadFramesAsync(process, cgroup);
                var exited = process.WaitForExitAsync(CancellationToken.None);
                await WatchAsync(exited, cgroup, started, cancellationToken);
                if (exited.IsCompleted)
                {
                    // Exited on its own (or killed): what it wrote before is still in the pipe, and may be its result.
                    cgroup.KillAll();
                    await reading;
                }

                if (Answered())
                {
                    // The result came before any kill, and the worker is already SIGKILLed with its cgroup (ReadFramesAsync):
                    // it can spend no more of anything past its cgroup's limits, which stay until the cgroup is removed.
                    // Whether it has exited yet or not, its ending is the same (and does not hold the answer).
                    // The exit code, OOM kill and diagnostics only classify a run without a result; this one has its result.
                    var answer = Answer(Usage(cgroup, started), exitCode: 0, oomKilled: false);
                    _answeredTimestamp = backend._time.GetTimestamp();
                    handedOff = true;
                    backend.TrackEnding(EndAsync(worker, exited, feeding, reading, module is null, started));
                    return answer;
                }

                // The worker is gone; its pipes end when every process holding them is (the cgroup is killed on dispose).
                var exitedTimestamp = backend._time.GetTimestamp();
                cgroup.KillAll();
                await Task.WhenAll(feeding, reading);
                _diagnostics = await worker.Diagnostics;
                var usage = Usage(cgroup, started);
                if (_killed == KillReason.Cancelled)
                {
                    throw new OperationCanceledException("the run was cancelled", cancellationToken);
                }

                var result = Answer(usage, process.ExitCode, cgroup.OomKilled());
                _answeredTimestamp = backend._time.GetTimestamp();
                LogEnded(worker, process.ExitCode, usage, module is null, started, exitedTimestamp);
                return result;
            }
            finally
            {
                if (!handedOff)
                {
                    worker.Dispose();
                }
            }
        }

        /// <summary>True once the worker's result is in and the service killed it for no other reason: the run is decided.</summary>
        private bool Answered()
        {
            lock (_lock)
            {
                // The result first: the reader sets it only after the outcome, so an outcome read after it is the one it saw.
                if (_resultSeen.Task.IsCompleted && _outcome is not null && _killed == KillReason.None)
                {
                    // Decided: a kill that comes later (the caller's cancellation) no longer changes what the run was.
                    _decided = true;
                    return true;
                }

                return false;
            }
        }

        /// <summary>
        /// The ending of a worker whose run was answered at its result: waits for the killed process to exit, drains its
        /// pipes and stderr, logs, and removes the cgroup. Never throws; a worker that outlives its SIGKILL is logged as
        /// the failure it is, and its cgroup is still killed again and removed (as far as the kernel lets it).
        /// </summary>
        private async Task EndAsync(WorkerProcess worker, Task exited, Task feeding, Task reading, bool warm, long started)
        {
            using var owned = worker;
            try
            {
                if (backend.HoldEndings is { } hold)
                {
                    await hold;
                }

                await exited.WaitAsync(s_workerExitTimeout, backend._time, CancellationToken.None);
                var exitedTimestamp = backend._time.GetTimestamp();
                worker.Cgroup.KillAll();
                await Task.WhenAll(feeding, reading).WaitAsync(s_workerExitTimeout, backend._time, CancellationToken.None);
                _diagnostics = await worker.Diagnostics.WaitAsync(s_workerExitTimeout, backend._time, CancellationToken.None);
                LogEnded(worker, worker.Process.ExitCode, _usage!, warm, started, exitedTimestamp);
            }
            catch (TimeoutException)
            {
                Log.WorkerOutlivedKill(backend._logger, plan.RunId, s_workerExitTimeout.TotalSeconds);
            }
#pragma warning disable CA1031 // The run is answered; whatever its ending meets is logged, never thrown at nobody.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Log.WorkerEndFailed(backend._logger, plan.RunId, e.GetType().Name, e.Message);
            }
        }

        private ResourceUsage Usage(WorkerCgroup cgroup, long started) => _usage = new ResourceUsage
        {
            WallMs = (long)backend._time.GetElapsedTime(started).TotalMilliseconds,
            CpuMs = CpuMs(cgroup),
            PeakMemoryBytes = Math.Max(_outcome?.GuestMemoryBytes ?? 0, Math.Max(0, (cgroup.PeakMemoryBytes() ?? 0) - _memoryBaselineBytes)),
            OutputBytes = _stdout.WrittenCount + _stderr.WrittenCount,
        };

        private RunResult Answer(ResourceUsage usage, int exitCode, bool oomKilled)
        {
            var result = Classify(exitCode, oomKilled, usage);
            var (artifacts, dropped) = _outcome is not null && _artifacts is not null ? _artifacts.Complete(_outcome.ArtifactsDropped) : (null, null);
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
                Artifacts = artifacts,
                ArtifactsDropped = dropped,
            };
        }

        private void LogEnded(WorkerProcess worker, int exitCode, ResourceUsage usage, bool warm, long started, long exitedTimestamp)
        {
            Log.WorkerEnded(backend._logger, plan.RunId, exitCode, _killed.ToString(), usage.CpuMs, usage.PeakMemoryBytes);
            if (backend._logger.IsEnabled(LogLevel.Debug) && _outcome?.Phases is { } phases && _readyTimestamp != 0 && _resultTimestamp != 0)
            {
                var time = backend._time;
                Log.WorkerPhases(
                    backend._logger, plan.RunId, warm ? "warm" : "cold", Ms(time.GetElapsedTime(worker.StartedTimestamp, started)),
                    Ms(time.GetElapsedTime(started, _readyTimestamp)), Ms(time.GetElapsedTime(_readyTimestamp, _resultTimestamp)),
                    Ms(time.GetElapsedTime(_resultTimestamp, _answeredTimestamp)), Ms(time.GetElapsedTime(_resultTimestamp, exitedTimestamp)),
                    Ms(time.GetElapsedTime(started, _answeredTimestamp)), Ms(time.GetElapsedTime(started, exitedTimestamp)), phases.Describe());
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
                Artifacts = plan.Profile.Artifacts.MaxFiles > 0 ? plan.Profile.Artifacts : null,
            };
        }

        private static async Task FeedAsync(Process process, byte[] requestBytes, byte[]? module)
        {
            var input = process.StandardInput.BaseStream;
            try
            {
                await WorkerFrames.WriteAsync(input, FrameType.Request, requestBytes, CancellationToken.None);
                if (module is not null)
                {
                    await WorkerFrames.WriteAsync(input, FrameType.Module, module, CancellationToken.None);
                }

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

                    if (frame.Type == FrameType.Result)
                    {
                        // The outcome is the worker's last word: the run ends here, not after the runtime's own shutdown
                        // (tens of ms). Not a kill reason: a delivered result stays the truth (Classify). One round of
                        // SIGKILLs, not the wait until the cgroup is empty (1-2 ms on v1): the ending kills until empty.
                        cgroup.KillPresent();
                        _resultSeen.TrySetResult();
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
                    // A warm worker's pre-initialisation is not the run's: the peak restarts here too.
                    _readyTimestamp = backend._time.GetTimestamp();
                    _cpuBaselineNanos = cgroup.CpuNanos() ?? 0;
                    _memoryBaselineBytes = cgroup.CurrentMemoryBytes() ?? 0;
                    cgroup.ResetPeakMemory();
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
                case FrameType.ArtifactBegin when _cpuBaselineNanos is not null && _outcome is null && _artifacts is not null:
                    return _artifacts.Begin(frame.Payload);
                case FrameType.ArtifactData when _cpuBaselineNanos is not null && _outcome is null && _artifacts is not null:
                    return _artifacts.Data(frame.Payload);
                case FrameType.Result when _cpuBaselineNanos is not null && _outcome is null:
                    _resultTimestamp = backend._time.GetTimestamp();
                    _outcome = JsonSerializer.Deserialize(frame.Payload, WorkerJsonContext.Default.WasmOutcome) ?? throw new JsonException("a null result");
                    return true;
                default:
                    Log.WorkerProtocolError(backend._logger, plan.RunId, $"unexpected {frame.Type} frame");
                    return false;
            }
        }

        /// <summary>
        /// Waits for the worker to exit or to deliver its result (then already killed), killing it at the deadline, when
        /// its CPU time is spent, or when the caller cancels.
        /// </summary>
        private async Task WatchAsync(Task exited, WorkerCgroup cgroup, long started, CancellationToken cancellationToken)
        {
            var options = backend._options;
            var ended = Task.WhenAny(exited, _resultSeen.Task);
            var deadline = TimeSpan.FromMilliseconds(Limits.WallTimeMs) + options.DeadlineGrace;
            var cpuLimitNanos = Limits.CpuTimeMs * 1_000_000;
            while (!exited.IsCompleted && !_resultSeen.Task.IsCompleted)
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
                    await ended.WaitAsync(pause, backend._time, cancellationToken);
                }
                catch (TimeoutException)
                {
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                }
            }

            if (exited.IsCompleted || Answered())
            {
                // Exited, or answered for at its result (its exit is the backend's to wait for, in EndAsync).
                return;
            }

            // After a kill, the process ends within milliseconds: the kernel does not wait for it to agree.
            await exited.WaitAsync(s_workerExitTimeout, backend._time, CancellationToken.None);
        }

        private void Kill(KillReason reason, WorkerCgroup cgroup)
        {
            lock (_lock)
            {
                if (_killed == KillReason.None && !_decided && !(_outcome is not null && reason is KillReason.Deadline or KillReason.Cpu))
                {
                    _killed = reason;
                }
            }

            cgroup.KillAll();
        }

        private static double Ms(TimeSpan span) => Math.Round(span.TotalMilliseconds, 1);

        private long CpuMs(WorkerCgroup cgroup)
        {
            var nanos = (cgroup.CpuNanos() ?? 0) - (_cpuBaselineNanos ?? cgroup.CpuNanos() ?? 0);
            var counted = (Math.Max(0, nanos) + 999_999) / 1_000_000;
            // The kernel's count starts when this side reads the worker's Ready frame, so it misses what the worker did before
            // that read: a busy service read it after a short guest had ended, and a hello was charged 0 ms (CI, 2026-12-08).
            // The worker's own count of its run phase is a floor for it, as its guest memory is for the peak: taking the
            // larger can only charge the run more, never less, so an untrusted worker gains nothing by it.
            var reported = _outcome?.Phases is { } phases ? (long)Math.Ceiling(Math.Clamp(phases.Run.CpuMs, 0, int.MaxValue)) : 0;
            return Math.Max(counted, reported);
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

        [LoggerMessage(6, LogLevel.Debug, "Run {RunId}: took warm WebAssembly worker {Pid} ({State}; waited {WaitedMs} ms)")]
        public static partial void WarmClaimed(ILogger logger, string runId, int pid, string state, long waitedMs);

        [LoggerMessage(7, LogLevel.Debug, "Run {RunId}: no warm WebAssembly worker for its profile and limits; starting one cold")]
        public static partial void WarmMissed(ILogger logger, string runId);

        [LoggerMessage(8, LogLevel.Debug, "Run {RunId}: {Start} WebAssembly worker phases (ms): service: spawn to claim {SpawnToClaimMs}, claim to ready {ClaimToReadyMs}, ready to result {ReadyToResultMs}, result to answer {ResultToAnswerMs}, result to exit {ResultToExitMs}, claim to answer {ClaimToAnswerMs}, claim to exit {ClaimToExitMs}; worker (wall/cpu): {WorkerPhases}")]
        public static partial void WorkerPhases(ILogger logger, string runId, string start, double spawnToClaimMs, double claimToReadyMs, double readyToResultMs, double resultToAnswerMs, double resultToExitMs, double claimToAnswerMs, double claimToExitMs, string workerPhases);

        [LoggerMessage(9, LogLevel.Error, "Run {RunId}: the WebAssembly worker, answered for at its result and SIGKILLed, had not ended {Seconds} s later; its cgroup is killed again and removed as far as the kernel lets")]
        public static partial void WorkerOutlivedKill(ILogger logger, string runId, double seconds);

        [LoggerMessage(10, LogLevel.Error, "Run {RunId}: ending the WebAssembly worker after its answer failed ({Kind}: {Problem})")]
        public static partial void WorkerEndFailed(ILogger logger, string runId, string kind, string problem);

        [LoggerMessage(11, LogLevel.Error, "{Count} WebAssembly workers of answered runs had not ended {Seconds} s into the backend's dispose; their cgroups are left for the next start's sweep")]
        public static partial void EndingsOutlived(ILogger logger, int count, double seconds);

        [LoggerMessage(5, LogLevel.Error, "Run {RunId}: the WebAssembly worker exited {ExitCode} without a result; its stderr ends: {Diagnostics}")]
        public static partial void WorkerDied(ILogger logger, string runId, int exitCode, string diagnostics);
    }
}
