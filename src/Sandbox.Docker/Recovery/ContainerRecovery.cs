using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Sandbox.Core.Errors;
using Sandbox.Core.Limits;
using Sandbox.Core.Runs;
using Sandbox.Docker.Cgroups;
using Sandbox.Docker.Client;
using Sandbox.Docker.Execution;
using Sandbox.Docker.Pooling;
using Sandbox.Docker.Spec;

namespace Sandbox.Docker.Recovery;

/// <summary>
/// Start-up recovery of runs whose supervisor died under them (issue 11, point 3), Docker side. For each of our
/// labelled containers of a run the caller claims: one still running is followed to its end (its output from now on
/// kept within its caps, its deadline and CPU limit held through its cgroup); one that has exited is judged by the
/// daemon's record (exit code, OOM) and its cgroup's usage; then it is removed. A run whose run step never started
/// (only its compile step is found) has its containers killed and removed and gets no result here.
/// </summary>
public sealed partial class ContainerRecovery : IContainerRecovery
{
    /// <summary>How often a followed container's cgroup is sampled.</summary>
    private static readonly TimeSpan s_sample = TimeSpan.FromMilliseconds(50);

    /// <summary>How long the daemon may take to report the exit of a container whose processes are gone.</summary>
    private static readonly TimeSpan s_exitGrace = TimeSpan.FromSeconds(10);

    private readonly IDockerClient _docker;
    private readonly CgroupMeter _meter;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public ContainerRecovery(IDockerClient docker, CgroupMeter meter, TimeProvider time, ILogger logger)
    {
        _docker = docker;
        _meter = meter;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// Recovers every run <paramref name="isOurs"/> claims, all at once (a followed run waits at most until its deadline);
    /// returns one entry per run found. Containers of other runs are left to their own supervisor and the reaper.
    /// </summary>
    public async Task<IReadOnlyList<RecoveredRun>> RecoverAsync(Func<string, bool> isOurs, CancellationToken cancellationToken)
    {
        var runs = await FindAsync(isOurs, cancellationToken);
        return await Task.WhenAll(runs.Select(run => RecoverAsync(run, RecoveredOutput.None, CancellationToken.None, cancellationToken)));
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<RecoverableRun>> FindAsync(Func<string, bool> isOurs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(isOurs);
        var containers = await _docker.ListContainersAsync([SandboxLabels.Managed + "=true"], cancellationToken);
        return [.. containers
            // A claimed warm-pool container carries its run in its name, not a label (see ClaimName).
            .Select(c => (Container: c, RunId: c.Labels?.GetValueOrDefault(SandboxLabels.RunId) ?? ClaimName.Parse(c)?.RunId))
            .Where(c => c.RunId is not null && isOurs(c.RunId))
            .GroupBy(c => c.RunId!, StringComparer.Ordinal)
            .Select(run =>
            {
                var step = run.Select(c => c.Container).FirstOrDefault(c => c.Labels?.GetValueOrDefault(SandboxLabels.Step) == "run");
                var judged = step is null ? null : LimitsLabel.Parse(step.Labels?.GetValueOrDefault(SandboxLabels.Limits));
                return new RecoverableRun
                {
                    RunId = run.Key,
                    Containers = [.. run.Select(c => c.Container)],
                    // Only a run step still going is followed; a compile step is killed at once (the program never ran).
                    Running = step?.State == "running" && judged is not null,
                    Limits = judged?.Limits,
                };
            })];
    }

    /// <inheritdoc/>
    public async Task<RecoveredRun> RecoverAsync(RecoverableRun run, RecoveredOutput prior, CancellationToken shutdown, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(prior);
        var runId = run.RunId;
        RunResult? result = null;
        foreach (var container in run.Containers)
        {
            var labels = container.Labels ?? new Dictionary<string, string>();
            var parent = CgroupMeter.ParentOf(labels, runId);
            try
            {
                if (labels.GetValueOrDefault(SandboxLabels.Step) == "run" && LimitsLabel.Parse(labels.GetValueOrDefault(SandboxLabels.Limits)) is { } judged)
                {
                    // A claimed container's label was written before its run: the compile step's CPU is in its name instead.
                    var claim = ClaimName.Parse(container);
                    judged = judged with { CompileCpuMs = judged.CompileCpuMs ?? claim?.CompileCpuMs };
                    result = await RecoverStepAsync(runId, container.Id, labels, parent, judged, claim?.ClaimedAt, prior, shutdown, cancellationToken);
                    if (result is null)
                    {
                        Log.Abandoned(_logger, runId);
                    }
                    else
                    {
                        Log.Recovered(_logger, runId, result.Status.ToWireName());
                    }
                }
                else
                {
                    // A compile step (the program never ran), or a container without the labels to judge it: ended, not judged.
                    _meter.Kill(parent);
                    Log.Abandoned(_logger, runId);
                }
            }
            catch (SandboxException ex)
            {
                // The daemon failed mid-way: no result is better than a wrong one; reconciliation records the run interrupted.
                _meter.Kill(parent);
                Log.Failed(_logger, runId, ex);
            }
            finally
            {
                await RemoveAsync(container.Id, parent);
            }
        }

        return new RecoveredRun { RunId = runId, Result = result };
    }

    /// <inheritdoc/>
    public async Task DiscardAsync(RecoverableRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        foreach (var container in run.Containers)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var labels = container.Labels ?? new Dictionary<string, string>();
            if (labels.ContainsKey(SandboxLabels.Session))
            {
                continue;
            }

            var parent = CgroupMeter.ParentOf(labels, run.RunId);
            // Its run's end is on record: whatever it still holds or does is no one's, so it is killed before removal.
            _meter.Kill(parent);
            await RemoveAsync(container.Id, parent);
            Log.Discarded(_logger, run.RunId, container.Id[..Math.Min(12, container.Id.Length)]);
        }
    }

    /// <summary>The step's real end; null when it never started (the service died between create and start): nothing ran.</summary>
    private async Task<RunResult?> RecoverStepAsync(string runId, string id, IReadOnlyDictionary<string, string> labels, string parent, JudgedLimits judged, DateTimeOffset? claimedAt,
        RecoveredOutput prior, CancellationToken shutdown, CancellationToken cancellationToken)
    {
        var (limits, compileErrorExitCode, compileCpuMs) = (judged.Limits, judged.CompileErrorExitCode, judged.CompileCpuMs);
        var info = await _docker.InspectContainerAsync(id, cancellationToken);
        var state = info.State ?? new ContainerState();
        if (state.Status == "created" || ParseTime(state.StartedAt) is null)
        {
            // Created, never started: its zero exit code is a default, not an outcome.
            return null;
        }

        // A warm-pool container's run began at its claim; it had waited idle since its start.
        var startedAt = claimedAt ?? ParseTime(state.StartedAt);
        // What it printed before the crash, as far as it was persisted as it streamed, then what a follow reads from now on.
        var stdout = new OutputCollector(limits.StdoutBytes);
        var stderr = new OutputCollector(limits.StderrBytes);
        stdout.Append(prior.Stdout.Span);
        stderr.Append(prior.Stderr.Span);
        var persisted = prior.Stdout.Length + prior.Stderr.Length > 0;

        var followed = state.Running;
        var (exitCode, oomKilled, reason, endedAt) = followed
            ? await FollowAsync(id, parent, limits, KillAt(labels, startedAt, limits), stdout, stderr, shutdown, cancellationToken)
            : ((long?)state.ExitCode, state.OOMKilled, KillReason.None, ParseTime(state.FinishedAt));

        var wallMs = startedAt is { } s && endedAt is { } e ? Math.Max(0, (long)(e - s).TotalMilliseconds) : 0;
        if (reason == KillReason.None && wallMs > limits.WallTimeMs)
        {
            // Nobody held the deadline while the service was down: the limit passed first, whatever came after.
            reason = KillReason.WallTime;
        }

        var outcome = StepOutcome.Collected(
            exitCode,
            oomKilled || _meter.ReadOomKills(parent) > 0,
            reason,
            stdout,
            stderr,
            wallMs,
            (_meter.ReadCpuNanos(parent) ?? 0) / 1_000_000,
            _meter.ReadPeakMemoryBytes(parent) ?? 0);
        var verdict = OutcomeClassifier.Classify(outcome, limits, compileErrorExitCode);
        if (reason == KillReason.None && exitCode == OutcomeClassifier.EntryFailedExit && outcome.Stderr.Length == 0)
        {
            // sandbox-entry's own failure code, and its message went with the service: most likely the service died while
            // streaming the program's files, so the program never ran. Not the program's error.
            verdict = new Classification(RunStatus.SandboxError, null, null,
                $"sandbox_error: the step ended with sandbox-entry's failure code {OutcomeClassifier.EntryFailedExit}, most likely because the service died while handing the program its files, so it may never have run");
        }

        if (reason == KillReason.Cancelled)
        {
            verdict = new Classification(RunStatus.Cancelled, null, null, "cancelled: the service shut down while it followed the run after a restart, and killed it");
        }

        var before = persisted
            ? "output written before the restart is kept as far as it was persisted (flushed every 250 ms as it streamed)"
            : "output written before the restart was lost with the service";
        var note = followed
            ? $"the service restarted while the program ran: {before}, output after it is kept"
            : $"the service restarted while the program ran: {before}";
        var said = verdict.Message ?? $"{verdict.Status.ToWireName()}: the program exited with code {exitCode}";
        if (!followed && reason == KillReason.WallTime)
        {
            said = $"timeout: ran {wallMs} ms, past its {limits.WallTimeMs} ms wall-clock limit, while the service was down";
        }

        return new RunResult
        {
            RunId = runId,
            Status = verdict.Status,
            ExitCode = reason == KillReason.None && verdict.Signal is null ? (int?)exitCode : null,
            Signal = verdict.Signal,
            Stdout = Encoding.UTF8.GetString(outcome.Stdout),
            StdoutBytes = outcome.Stdout,
            StdoutTruncated = outcome.StdoutTruncated,
            Stderr = Encoding.UTF8.GetString(outcome.Stderr),
            StderrBytes = outcome.Stderr,
            StderrTruncated = outcome.StderrTruncated,
            // The compile step's CPU, measured before the run step was created and written into its label: charged too.
            Usage = compileCpuMs is { } compileMs ? outcome.Usage with { CompileCpuMs = compileMs } : outcome.Usage,
            LimitBreach = verdict.Breach,
            Limits = limits,
            Message = said + "; " + note,
            Runtime = info.HostConfig?.Runtime,
        };
    }

    private async Task RemoveAsync(string id, string parent)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30), _time);
            await _docker.RemoveContainerAsync(id, timeout.Token);
        }
        catch (Exception ex) when (ex is SandboxException or OperationCanceledException)
        {
            // The reaper removes it later by its labels.
            Log.RemoveFailed(_logger, ex);
        }

        _meter.TryRemove(parent);
    }

    /// <summary>The step's wall-clock deadline: its label, else its start plus its limit.</summary>
    private static DateTimeOffset KillAt(IReadOnlyDictionary<string, string> labels, DateTimeOffset? startedAt, ResourceLimits limits)
    {
        var fromStart = (startedAt ?? DateTimeOffset.MinValue) + TimeSpan.FromMilliseconds(limits.WallTimeMs);
        return long.TryParse(labels.GetValueOrDefault(SandboxLabels.KillAt), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms) > fromStart ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : fromStart
            : fromStart;
    }

    /// <summary>The daemon's RFC 3339 times carry nanoseconds; .NET parses at most seven fractional digits.</summary>
    internal static DateTimeOffset? ParseTime(string? text)
    {
        if (string.IsNullOrEmpty(text) || text.StartsWith("0001-", StringComparison.Ordinal))
        {
            return null;
        }

        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot > 0)
        {
            var end = dot + 1;
            while (end < text.Length && char.IsAsciiDigit(text[end]))
            {
                end++;
            }

            text = text[..Math.Min(end, dot + 8)] + text[end..];
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value) ? value : null;
    }

    private static partial class Log
    {
        [LoggerMessage(40, LogLevel.Warning, "Recovery: run {RunId} outlived the service that started it; recorded its real end: {Status}")]
        public static partial void Recovered(ILogger logger, string runId, string status);

        [LoggerMessage(41, LogLevel.Warning, "Recovery: run {RunId} had not reached its run step (or its container cannot be judged); killed and removed")]
        public static partial void Abandoned(ILogger logger, string runId);

        [LoggerMessage(42, LogLevel.Warning, "Recovery: run {RunId} could not be recovered; it is recorded as interrupted")]
        public static partial void Failed(ILogger logger, string runId, Exception exception);

        [LoggerMessage(43, LogLevel.Warning, "Recovery: a container could not be removed now; the reaper will remove it")]
        public static partial void RemoveFailed(ILogger logger, Exception exception);

        [LoggerMessage(44, LogLevel.Information, "Recovery: removed container {ContainerId} of run {RunId}, whose end was recorded before the service died")]
        public static partial void Discarded(ILogger logger, string runId, string containerId);
    }
}
