using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Sandbox.Core.Errors;
using Sandbox.Core.Execution;
using Sandbox.Core.Limits;
using Sandbox.Core.Runs;
using Sandbox.Docker.Cgroups;
using Sandbox.Docker.Client;
using Sandbox.Docker.Execution;
using Sandbox.Docker.Spec;

namespace Sandbox.Docker.Sessions;

/// <summary>
/// A session on Docker: one hardened container (the run's own spec, see <see cref="ContainerSpecBuilder"/> item 11) whose
/// program is a kernel that runs cells in one interpreter. Each cell has its own wall, CPU (the cgroup's delta over the cell)
/// and output limits, enforced from the host. A cell that breaches one, or whose code kills the interpreter, ends the
/// kernel: its result says the state is lost, and the next cell starts a fresh kernel (noted <c>session_restarted</c>).
/// Cells run one at a time.
/// </summary>
public sealed partial class DockerSession : IExecutionSession, IAsyncDisposable
{
    /// <summary>Mode of the kernel's source: readable, not executable.</summary>
    private const int FileMode = 0b110_100_100;

    private readonly IDockerClient _docker;
    private readonly CgroupMeter _meter;
    private readonly DockerBackendOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RunPlan _opened;
    private readonly ResourceLimits _kernelLimits;
    private readonly KernelProgram _program;
    private readonly DateTimeOffset _expiresAt;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _closing = new();
    private readonly ConcurrentDictionary<string, SessionCellNotes> _notes = new(StringComparer.Ordinal);
    private SessionKernel? _kernel;
    private int _generation;
    private string? _closedBecause;

    // CPU the kernels used between cells, over the session's life (see IdleCpuMs), and the kernel's cgroup reading when the
    // last cell ended (null while a cell runs, or with no kernel). Both change under _gate.
    private long _idleCpuNanos;
    private long? _idleSince;

    internal DockerSession(string id, RunPlan opened, DockerSessionOptions sessionOptions, IDockerClient docker, CgroupMeter meter, DockerBackendOptions options, TimeProvider time, ILogger logger)
    {
        Id = id;
        _opened = opened;
        _docker = docker;
        _meter = meter;
        _options = options;
        _time = time;
        _logger = logger;
        _expiresAt = time.GetUtcNow() + sessionOptions.MaxLifetime;
        _program = KernelProgram.For(opened.Profile);
        // The kernel lives across cells: its container's wall and RLIMIT_CPU backstop are the session's whole life, not a cell's.
        _kernelLimits = opened.Limits with
        {
            WallTimeMs = (long)sessionOptions.MaxLifetime.TotalMilliseconds,
            CpuTimeMs = sessionOptions.CpuBudgetMs,
        };
    }

    public string Id { get; }

    public string ProfileName => _opened.Profile.Name;

    /// <summary>The plan the session was opened with (profile, runtime, limits, pinned image).</summary>
    public RunPlan Plan => _opened;

    /// <summary>When the session ends whatever it is doing (its maximum lifetime).</summary>
    public DateTimeOffset ExpiresAt => _expiresAt;

    /// <summary>How many times a fresh kernel replaced one that a cell ended.</summary>
    public int Restarts { get; private set; }

    /// <summary>Whether the session still takes cells.</summary>
    public bool IsOpen => Volatile.Read(ref _closedBecause) is null;

    /// <summary>
    /// CPU, in ms, the session's kernels used between cells over its whole life: work a cell left running (a background
    /// process or thread) that no cell's CPU limit, result or budget counts, since a cell is charged its cgroup's delta over
    /// the cell alone. The registry closes a session past its allowance and charges it to the agent when the session closes.
    /// Null while a cell runs (its CPU is the cell's).
    /// </summary>
    public long? IdleCpuMs
    {
        get
        {
            if (!_gate.Wait(0))
            {
                return null;
            }

            try
            {
                var since = _kernel is { } kernel && _idleSince is { } start && _meter.ReadCpuNanos(kernel.Step.CgroupParent) is { } used ? Math.Max(0, used - start) : 0;
                return (_idleCpuNanos + since) / 1_000_000;
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    /// <summary>Starts the first kernel and waits until it answers, so the first cell is as warm as the next.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            _kernel = await StartKernelAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>What the cell <paramref name="runId"/> did to the session (restarted before it, lost its state); asked once.</summary>
    public SessionCellNotes? TakeNotes(string runId) => _notes.TryRemove(runId, out var notes) ? notes : null;

    public async Task<RunResult> ExecuteAsync(RunPlan plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_closedBecause is { } why)
            {
                return Cancelled(plan, "cancelled: the session was closed before the cell ran (" + why + ")");
            }

            var restarted = false;
            if (_kernel is null || _kernel.Ended.IsCompleted)
            {
                // The last cell (or something between cells) ended the kernel: this cell starts a fresh one.
                await RemoveKernelAsync();
                _kernel = await StartKernelAsync(cancellationToken);
                restarted = true;
                Restarts++;
            }

            var (result, lost) = await RunCellAsync(_kernel, plan.Request, plan.Limits, plan.Output, cancellationToken);
            if (lost)
            {
                await RemoveKernelAsync();
                result = result with
                {
                    Message = (result.Message ?? result.Status.ToWireName()) + "; the session's interpreter was ended, so its state (variables, imports, files) is lost, and the next cell starts a fresh one",
                };
            }

            _notes[plan.RunId] = new SessionCellNotes(restarted, lost);
            return result with { RunId = plan.RunId, Runtime = plan.Runtime };
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Ends the session now: a running cell is killed, the kernel's container and cgroup are removed.</summary>
    public async Task CloseAsync(string reason)
    {
        if (Interlocked.CompareExchange(ref _closedBecause, reason, null) is not null)
        {
            return;
        }

        await _closing.CancelAsync();
        await _gate.WaitAsync();
        try
        {
            await RemoveKernelAsync();
        }
        finally
        {
            _gate.Release();
        }

        Log.Closed(_logger, Id, reason);
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync("disposed");
        _closing.Dispose();
    }

    private async Task<(RunResult Result, bool Lost)> RunCellAsync(SessionKernel kernel, RunRequest request, ResourceLimits limits, IRunOutputSink? output, CancellationToken cancellationToken)
    {
        var parent = kernel.Step.CgroupParent;
        var nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var kill = new KillSwitch(_docker, kernel.ContainerId, () => _meter.IsPopulated(parent), () => _meter.Kill(parent));
        // Files the cell leaves in /tmp/outputs come back with its result, under the profile's caps, as a run's do.
        var artifacts = _opened.Profile.Artifacts.MaxFiles > 0;
        var outputs = artifacts ? new OutputsReader(new Artifacts.ArtifactCapture(nonce, _opened.Profile.Artifacts)) : null;
        var cell = new SessionCell(nonce, limits, output, kill, outputs);

        // What the kernel used since the last cell ended was no cell's: counted, before this cell's accounting starts.
        EndIdleSpan(parent);

        // The cell's CPU and memory high-water mark start now (reset where the kernel allows it, else subtracted).
        var cpuBaseline = _meter.ResetForClaim(parent);
        var oomBefore = _meter.ReadOomKills(parent);
        kernel.Current = cell;
        var started = _time.GetTimestamp();
        using var deadline = kill.ArmWallClock(limits.WallTimeMs, started, _time);
        using var onCancel = cancellationToken.Register(() => kill.Fire(KillReason.Cancelled));
        using var onClose = _closing.Token.Register(() => kill.Fire(KillReason.Cancelled));
        using var stopMonitor = new CancellationTokenSource();
        var monitor = MonitorCpuAsync(parent, limits.CpuTimeMs, cpuBaseline, kill, stopMonitor.Token);
        try
        {
            try
            {
                await kernel.Attached.WriteStdinAsync(_program.Frame(nonce, request, artifacts), kernel.Stop.Token);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or SandboxException)
            {
                // The kernel is already gone; its end below tells the outcome.
            }

            await Task.WhenAny(cell.Done, kernel.Ended);
            if (kill.Reason != KillReason.None || !cell.Done.IsCompleted)
            {
                // Killed, or the kernel died on its own: wait (bounded) for the end to be seen and the output to drain.
                await Task.WhenAny(kernel.Ended, Task.Delay(_options.KillGrace, _time, CancellationToken.None));
            }
        }
        finally
        {
            await stopMonitor.CancelAsync();
            await Quietly(monitor);
            kernel.Current = null;
        }

        var wallMs = (long)_time.GetElapsedTime(started).TotalMilliseconds;
        var lost = kill.Reason != KillReason.None || !cell.Done.IsCompleted;
        if (kill.Reason == KillReason.Cancelled && cancellationToken.IsCancellationRequested)
        {
            await RemoveKernelAsync();
            cancellationToken.ThrowIfCancellationRequested();
        }

        long? exitCode = cell.ExitCode;
        var oomKilled = _meter.ReadOomKills(parent) > oomBefore;
        if (lost)
        {
            cell.Flush();
            (exitCode, oomKilled) = await InspectEndAsync(kernel, oomKilled);
        }

        var cpuNow = _meter.ReadCpuNanos(parent);
        var cpuMs = Math.Max(0, (cpuNow ?? 0) - cpuBaseline) / 1_000_000;
        _idleSince = lost ? null : cpuNow; // from here until the next cell, what the kernel uses is idle CPU
        cell.EndOutputs();
        var outcome = cell.WithArtifacts(StepOutcome.Collected(exitCode, oomKilled, kill.Reason, cell.Stdout, cell.Stderr, wallMs, cpuMs, _meter.ReadPeakMemoryBytes(parent) ?? 0));
        if (kill.Reason == KillReason.Cancelled)
        {
            return (Cancelled(null, "cancelled: the session was closed while the cell ran (" + (_closedBecause ?? "closed") + ")") with { Usage = outcome.Usage }, true);
        }

        var verdict = OutcomeClassifier.Classify(outcome, limits, compileErrorExitCode: null);
        return (new RunResult
        {
            RunId = "",
            Status = verdict.Status,
            ExitCode = kill.Reason == KillReason.None && verdict.Signal is null ? (int?)outcome.ExitCode : null,
            Signal = verdict.Signal,
            Stdout = Encoding.UTF8.GetString(outcome.Stdout),
            StdoutBytes = outcome.Stdout,
            StdoutTruncated = outcome.StdoutTruncated,
            Stderr = Encoding.UTF8.GetString(outcome.Stderr),
            StderrBytes = outcome.Stderr,
            StderrTruncated = outcome.StderrTruncated,
            Usage = outcome.Usage,
            LimitBreach = verdict.Breach,
            Message = verdict.Message,
            Artifacts = outcome.Artifacts,
            ArtifactsDropped = outcome.ArtifactsDropped,
        }, lost);
    }

    /// <summary>The kernel's exit code and OOM flag from the daemon once it died; 137 (a kill) when the daemon cannot say.</summary>
    private async Task<(long? ExitCode, bool OomKilled)> InspectEndAsync(SessionKernel kernel, bool oomSeen)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5), _time);
            var inspect = await _docker.InspectContainerAsync(kernel.ContainerId, timeout.Token);
            return inspect.State is { Running: false } state ? (state.ExitCode, oomSeen || state.OOMKilled) : (OutcomeClassifier.SigKillExit, oomSeen);
        }
        catch (Exception ex) when (ex is SandboxException or OperationCanceledException)
        {
            return (OutcomeClassifier.SigKillExit, oomSeen);
        }
    }

    private async Task MonitorCpuAsync(string parent, long cpuTimeMs, long cpuBaseline, KillSwitch kill, CancellationToken cancellationToken)
    {
        var limitNanos = cpuTimeMs * 1_000_000;
        using var timer = new PeriodicTimer(_options.SampleInterval, _time);
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            if (_meter.ReadCpuNanos(parent) is { } used && used - cpuBaseline > limitNanos)
            {
                kill.Fire(KillReason.CpuTime);
                return;
            }
        }
    }

    private async Task<SessionKernel> StartKernelAsync(CancellationToken cancellationToken)
    {
        if (!_meter.IsAvailable)
        {
            // Fail closed: without the cgroup meter no cell's CPU limit could be enforced.
            throw new SandboxInfrastructureException("CPU time cannot be measured, so the session was refused: " + _meter.Description);
        }

        var generation = Interlocked.Increment(ref _generation);
        var profile = _opened.Profile;
        var step = new ContainerStep
        {
            RunId = Id,
            StepName = "kernel" + generation,
            Image = _opened.ArtifactDigest ?? profile.Image, // pinned, as a run's
            Command = _program.Command(profile.Command),
            Environment = profile.Environment,
            Limits = _kernelLimits,
            Runtime = _opened.Runtime,
            TmpExec = profile.TmpExec,
            CgroupParent = CgroupMeter.ParentFor(Id + "-kernel" + generation),
            DeadlineUnixMs = (_expiresAt + _options.ReapGrace).ToUnixTimeMilliseconds(),
            KillAtUnixMs = _expiresAt.ToUnixTimeMilliseconds(),
            Session = DockerSessions.Instance,
        };
        var spec = ContainerSpecBuilder.Build(step, SeccompProfile.Runner);
        string? id = null;
        try
        {
            using var createTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(30), _time);
            id = await _docker.CreateContainerAsync(spec.Request, spec.Name, createTimeout.Token);
            var attached = await _docker.AttachAsync(id, cancellationToken);
            var kernel = new SessionKernel(id, step, attached);
            await _docker.StartContainerAsync(id, cancellationToken);
            kernel.Ended = ReadAsync(kernel);
            var source = new PayloadFile(profile.SourceFile, _program.Source, FileMode);
            await attached.WriteStdinAsync(FilePayload.Encode([source]), cancellationToken);

            // An empty cell: answered once the interpreter is up and reading, so no cell's wall clock pays for the start.
            var (ready, lost) = await RunCellAsync(kernel, new RunRequest { Language = profile.Language, Code = "" },
                _opened.Limits with { WallTimeMs = Math.Max(_opened.Limits.WallTimeMs, 30_000) }, output: null, cancellationToken);
            if (lost || ready.Status != RunStatus.Ok)
            {
                throw new SandboxInfrastructureException($"the session's kernel did not start: {ready.Message ?? ready.Status.ToWireName()} {ready.Stderr}".Trim());
            }

            Log.KernelStarted(_logger, Id, generation);
            return kernel;
        }
        catch
        {
            if (id is not null)
            {
                await RemoveContainerAsync(id, step.CgroupParent);
            }

            throw;
        }
    }

    private async Task ReadAsync(SessionKernel kernel)
    {
        var buffer = new byte[_options.ReadBufferBytes];
        try
        {
            while (true)
            {
                var (stream, count) = await kernel.Attached.ReadAsync(buffer, kernel.Stop.Token);
                if (count == 0)
                {
                    return;
                }

                kernel.Current?.Deliver(stream, buffer.AsSpan(0, count));
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or SandboxException)
        {
            // The kernel or its stream is gone: the end the cell waits for.
        }
    }

    /// <summary>Adds what the kernel used since the last cell ended to the idle CPU, and stops counting (under <c>_gate</c>).</summary>
    private void EndIdleSpan(string cgroupParent)
    {
        if (_idleSince is { } idleStart && _meter.ReadCpuNanos(cgroupParent) is { } idleEnd)
        {
            _idleCpuNanos += Math.Max(0, idleEnd - idleStart);
        }

        _idleSince = null;
    }

    private async Task RemoveKernelAsync()
    {
        if (Interlocked.Exchange(ref _kernel, null) is not { } kernel)
        {
            return;
        }

        EndIdleSpan(kernel.Step.CgroupParent);
        _meter.Kill(kernel.Step.CgroupParent);
        await kernel.Stop.CancelAsync();
        await Quietly(kernel.Ended);
        await kernel.Attached.DisposeAsync();
        kernel.Stop.Dispose();
        await RemoveContainerAsync(kernel.ContainerId, kernel.Step.CgroupParent);
    }

    private async Task RemoveContainerAsync(string id, string cgroupParent)
    {
        try
        {
            // Never a caller's token: a closed session's container must go whatever happened.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30), _time);
            await _docker.RemoveContainerAsync(id, timeout.Token);
            _meter.TryRemove(cgroupParent);
        }
        catch (Exception ex) when (ex is SandboxException or OperationCanceledException)
        {
            // Labelled as this service's session container: the reaper removes it once it is not running.
            Log.RemoveFailed(_logger, Id, ex);
        }
    }

    private static RunResult Cancelled(RunPlan? plan, string message) => new()
    {
        RunId = plan?.RunId ?? "",
        Status = RunStatus.Cancelled,
        Message = message,
    };

    private static async Task Quietly(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SandboxException or ObjectDisposedException)
        {
            // These end because the kernel is gone or the cell is over; their errors carry no news.
        }
    }

    private static partial class Log
    {
        [LoggerMessage(80, LogLevel.Information, "Session {SessionId}: kernel {Generation} started")]
        public static partial void KernelStarted(ILogger logger, string sessionId, int generation);

        [LoggerMessage(81, LogLevel.Information, "Session {SessionId} closed: {Reason}")]
        public static partial void Closed(ILogger logger, string sessionId, string reason);

        [LoggerMessage(82, LogLevel.Warning, "Session {SessionId}: its kernel container could not be removed now; the reaper will remove it")]
        public static partial void RemoveFailed(ILogger logger, string sessionId, Exception exception);
    }
}

/// <summary>What a cell did to its session: a fresh kernel was started for it (the last one's state was lost), or it ended the kernel.</summary>
public sealed record SessionCellNotes(bool Restarted, bool StateLost);
