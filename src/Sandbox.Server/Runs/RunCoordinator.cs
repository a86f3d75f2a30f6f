using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Sandbox.Core.Execution;
using Sandbox.Core.Runs;
using Sandbox.Server.Hosting;
using Sandbox.Server.Metrics;
using Sandbox.Server.Output;
using Sandbox.Server.Scheduling;

namespace Sandbox.Server.Runs;

/// <summary>
/// Runs inside the service: admits them through the bounded scheduler, tracks each from queued to its
/// one final result, keeps results for a while, honours idempotency keys, cancels on request and, on
/// shutdown, lets running jobs finish within a grace period before killing and recording the rest.
/// HTTP and the local MCP server both go through here.
/// </summary>
internal sealed partial class RunCoordinator : IAsyncDisposable
{
    private readonly RunPipeline _pipeline;
    private readonly ServerOptions _options;
    private readonly SandboxMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RunScheduler<RunEntry> _scheduler;
    private readonly ConcurrentDictionary<string, RunEntry> _runs = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<RunEntry> _completedInOrder = new();
    private readonly Lock _idempotencyGate = new();
    private readonly Dictionary<string, (string Fingerprint, string RunId)> _idempotency = new(StringComparer.Ordinal);
    private volatile bool _accepting = true;
    private double _averageRunSeconds = 1;

    public RunCoordinator(RunPipeline pipeline, ServerOptions options, SandboxMetrics metrics, TimeProvider time, ILogger<RunCoordinator> logger)
    {
        _pipeline = pipeline;
        _options = options;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _scheduler = new RunScheduler<RunEntry>(options.MaxConcurrentRuns, options.MaxQueueLength, ExecuteAsync);
        metrics.ObserveScheduler(() => _scheduler.QueueDepth, () => _scheduler.Running, options.MaxConcurrentRuns, options.MaxQueueLength);
    }

    public RunPipeline Pipeline => _pipeline;

    public int QueueDepth => _scheduler.QueueDepth;

    public int Running => _scheduler.Running;

    public bool Accepting => _accepting;

    /// <summary>
    /// Validates, plans and admits a run. With an idempotency key already seen for the same request, the
    /// existing run comes back instead of a new one; for a different request under the same key, a 422 problem.
    /// </summary>
    public SubmitOutcome Submit(RunRequest request, bool rawOutput, string? idempotencyKey = null, string? fingerprint = null)
    {
        Sweep();
        if (!_accepting)
        {
            _metrics.RecordRefusal("shutting_down");
            return SubmitOutcome.Refused(ShuttingDown());
        }

        if (idempotencyKey is null)
        {
            return Admit(request, rawOutput, null);
        }

        // One lock around lookup and admission: two concurrent retries with the same key must not both run.
        lock (_idempotencyGate)
        {
            if (_idempotency.TryGetValue(idempotencyKey, out var seen) && _runs.TryGetValue(seen.RunId, out var existing))
            {
                return seen.Fingerprint == fingerprint
                    ? SubmitOutcome.Replayed(existing)
                    : SubmitOutcome.Refused(new ApiProblem
                    {
                        Status = 422,
                        Code = "idempotency_key_reused",
                        Title = "The idempotency key was used for a different request",
                        Detail = $"Idempotency-Key '{idempotencyKey}' already belongs to run {seen.RunId} with a different body; use a new key for a new request",
                    });
            }

            var outcome = Admit(request, rawOutput, idempotencyKey);
            if (outcome.Entry is { } entry)
            {
                _idempotency[idempotencyKey] = (fingerprint ?? "", entry.Id);
                entry.IdempotencyKey = idempotencyKey;
            }

            return outcome;
        }
    }

    /// <summary>The plan a request would get, without admitting it.</summary>
    public (RunPlan? Plan, IReadOnlyList<FieldError> Errors) Plan(RunRequest request) => _pipeline.PlanForRun(request, _pipeline.NewRunId());

    public RunEntry? Find(string id)
    {
        Sweep();
        return _runs.GetValueOrDefault(id);
    }

    /// <summary>Cancels a queued or running run; it completes as <c>cancelled</c> once its container or engine is gone.</summary>
    public async Task<CancelOutcome> CancelAsync(string id, string reason, TimeSpan wait)
    {
        if (Find(id) is not { } entry)
        {
            return CancelOutcome.NotFound;
        }

        if (entry.State == RunState.Completed)
        {
            return CancelOutcome.AlreadyCompleted;
        }

        RequestCancel(entry, reason);
        if (entry.State == RunState.Queued)
        {
            // Nothing is running to kill: it gets its final state now, and the worker will skip it.
            Complete(entry, Cancelled(entry, reason), runMs: null);
        }

        // The backend removes the container before it reports; waiting here means "gone" when we answer.
        try
        {
            await entry.Completed.WaitAsync(wait, _time).ConfigureAwait(false);
            return CancelOutcome.Cancelled;
        }
        catch (TimeoutException)
        {
            return CancelOutcome.Cancelling;
        }
    }

    /// <summary>The view callers get: state, timings, and the result with output made safe.</summary>
    public static RunView View(RunEntry entry)
    {
        var result = entry.Result;
        return new RunView
        {
            Id = entry.Id,
            State = RunStateNames.Of(entry.State),
            CreatedAt = entry.CreatedAt,
            StartedAt = entry.StartedAt,
            CompletedAt = entry.CompletedAt,
            QueueMs = entry.QueueMs,
            RunMs = entry.RunMs,
            Result = result,
            Raw = result is not null && entry.RawOutput
                ? new RawOutput(Convert.ToBase64String(result.StdoutBytes.Span), Convert.ToBase64String(result.StderrBytes.Span))
                : null,
        };
    }

    /// <summary>Seconds a refused caller should wait: roughly how long the queue ahead takes to drain.</summary>
    public int RetryAfterSeconds()
    {
        var perSlot = (_scheduler.QueueDepth + 1.0) / _options.MaxConcurrentRuns;
        return (int)Math.Clamp(Math.Ceiling(perSlot * Volatile.Read(ref _averageRunSeconds)), 1, 60);
    }

    /// <summary>
    /// Stops admitting; queued runs are cancelled at once, running ones get the grace period and are then
    /// killed. Every run ends with a final state.
    /// </summary>
    public async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        _accepting = false;
        foreach (var queued in _scheduler.Close())
        {
            const string Reason = "the service shut down before the run started";
            RequestCancel(queued, Reason);
            Complete(queued, Cancelled(queued, Reason), runMs: null);
        }

        var running = _runs.Values.Where(e => e.State != RunState.Completed).ToList();
        if (running.Count > 0)
        {
            Log.Draining(_logger, running.Count, (long)_options.ShutdownGracePeriod.TotalSeconds);
            try
            {
                await Task.WhenAll(running.Select(e => e.Completed)).WaitAsync(_options.ShutdownGracePeriod, _time, cancellationToken);
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException)
            {
                // Out of grace (ours, or the host's stop token): kill the rest, below.
            }

            foreach (var entry in running.Where(e => e.State != RunState.Completed))
            {
                RequestCancel(entry, $"the service shut down; the run was killed after the {_options.ShutdownGracePeriod.TotalSeconds:0.#} s grace period");
            }
        }

        // Kills are confirmed (the container removed) before we return, whatever the host's token says;
        // bounded, so a wedged daemon cannot hang shutdown, and every run still ends with a final state.
        try
        {
            await _scheduler.Completion.WaitAsync(TimeSpan.FromSeconds(30), _time, CancellationToken.None);
        }
        catch (TimeoutException)
        {
            foreach (var entry in _runs.Values.Where(e => e.State != RunState.Completed))
            {
                Complete(entry, Cancelled(entry, "the service shut down and the backend did not confirm the kill in time"), runMs: null);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_accepting)
        {
            await ShutdownAsync(CancellationToken.None);
        }
    }

    private SubmitOutcome Admit(RunRequest request, bool rawOutput, string? idempotencyKey)
    {
        var runId = _pipeline.NewRunId();
        var (plan, errors) = _pipeline.PlanForRun(request, runId);
        if (plan is null)
        {
            _metrics.RecordRefusal("invalid_request");
            return SubmitOutcome.Refused(ApiProblem.Invalid(errors));
        }

        var entry = new RunEntry(plan, _time.GetUtcNow(), _time.GetTimestamp(), rawOutput, (int)Math.Min(int.MaxValue, plan.Limits.StdoutBytes + plan.Limits.StderrBytes));
        _runs[entry.Id] = entry;
        if (!_scheduler.TryEnqueue(entry))
        {
            _runs.TryRemove(entry.Id, out _);
            _metrics.RecordRefusal(_accepting ? "queue_full" : "shutting_down");
            if (!_accepting)
            {
                return SubmitOutcome.Refused(ShuttingDown());
            }

            var retry = RetryAfterSeconds();
            Log.QueueFull(_logger, _scheduler.Running, _scheduler.QueueDepth);
            return SubmitOutcome.Refused(new ApiProblem
            {
                Status = 429,
                Code = "queue_full",
                Title = "Too many runs at once",
                Detail = $"{_options.MaxConcurrentRuns} runs are executing and {_options.MaxQueueLength} are waiting, which is the most this service takes; retry after {retry} s",
                RetryAfterSeconds = retry,
            });
        }

        using (BeginRunScope(entry.Id))
        {
            Log.Accepted(_logger, entry.Id, plan.Profile.Name, plan.Backend, idempotencyKey is not null);
        }

        return SubmitOutcome.Accepted(entry);
    }

    private async Task ExecuteAsync(RunEntry entry)
    {
        using var scope = BeginRunScope(entry.Id);
        var started = _time.GetTimestamp();
        if (!entry.TryStart(_time.GetUtcNow(), (long)_time.GetElapsedTime(entry.CreatedTimestamp, started).TotalMilliseconds))
        {
            return;
        }

        RunResult result;
        try
        {
            result = await _pipeline.ExecuteAsync(entry.Plan, entry.Cancellation.Token);
        }
        catch (OperationCanceledException) when (entry.Cancellation.IsCancellationRequested)
        {
            result = Cancelled(entry, entry.CancelReason ?? "cancelled");
        }
        catch (Exception ex)
        {
            // A bug must not leave a run without a final state, nor kill this worker; the caller sees no internals.
            Log.Crashed(_logger, entry.Id, ex);
            result = RunResult.SandboxError(entry.Id, "the sandbox failed unexpectedly while running this; it has been logged") with
            {
                Language = entry.Plan.Request.Language,
                Profile = entry.Plan.Profile.Name,
                Backend = entry.Plan.Backend,
                Limits = entry.Plan.Limits,
            };
        }

        Complete(entry, result, (long)_time.GetElapsedTime(started).TotalMilliseconds);
    }

    private void Complete(RunEntry entry, RunResult raw, long? runMs)
    {
        var result = raw with
        {
            Stdout = Present(raw.StdoutBytes, raw.Stdout, raw.StdoutTruncated, raw.Limits?.StdoutBytes),
            Stderr = Present(raw.StderrBytes, raw.Stderr, raw.StderrTruncated, raw.Limits?.StderrBytes),
        };
        if (!entry.TryComplete(result, _time.GetUtcNow(), runMs))
        {
            return;
        }

        var run = TimeSpan.FromMilliseconds(runMs ?? 0);
        if (runMs is { } ms)
        {
            // A slow-moving average so one long run does not swing Retry-After.
            Volatile.Write(ref _averageRunSeconds, (0.8 * Volatile.Read(ref _averageRunSeconds)) + (0.2 * ms / 1000.0));
        }

        _metrics.RecordRun(result.Status.ToWireName(), entry.Plan.Backend, TimeSpan.FromMilliseconds(entry.QueueMs ?? 0), run);
        Log.Completed(_logger, entry.Id, result.Status.ToWireName(), entry.QueueMs ?? 0, runMs ?? 0);
        _completedInOrder.Enqueue(entry);
    }

    /// <summary>Output as text safe for a model or a terminal; head and tail kept when long, with a marker at a cap cut.</summary>
    private string Present(ReadOnlyMemory<byte> bytes, string decoded, bool truncated, long? cap)
    {
        // Results made without bytes (rejections, cancellations) carry their text only.
        var text = bytes.IsEmpty && decoded.Length > 0 ? decoded : OutputSanitizer.Sanitize(bytes.Span, bytes.Length, _options.MaxOutputTextBytes);
        return truncated ? text + $"\n[output cap of {cap} bytes reached; the rest was discarded and the program was stopped]" : text;
    }

    private static void RequestCancel(RunEntry entry, string reason)
    {
        entry.CancelReason ??= reason;
        entry.Cancellation.Cancel();
    }

    private static RunResult Cancelled(RunEntry entry, string reason) => new()
    {
        RunId = entry.Id,
        Status = RunStatus.Cancelled,
        Message = "cancelled: " + reason,
        Language = entry.Plan.Request.Language,
        Profile = entry.Plan.Profile.Name,
        Backend = entry.Plan.Backend,
        Runtime = entry.Plan.Runtime,
        Limits = entry.Plan.Limits,
    };

    private static ApiProblem ShuttingDown() => new()
    {
        Status = 503,
        Code = "shutting_down",
        Title = "The service is shutting down",
        Detail = "this instance is no longer accepting runs; retry against another instance or after it restarts",
        RetryAfterSeconds = 5,
    };

    /// <summary>Drops results past their retention time, and the oldest when too many are kept.</summary>
    private void Sweep()
    {
        var now = _time.GetUtcNow();
        while (_completedInOrder.TryPeek(out var oldest)
            && (now - oldest.CompletedAt > _options.ResultRetention || _completedInOrder.Count > _options.MaxRetainedRuns))
        {
            if (!_completedInOrder.TryDequeue(out var gone))
            {
                break;
            }

            _runs.TryRemove(gone.Id, out _);
            gone.Cancellation.Dispose();
            if (gone.IdempotencyKey is { } key)
            {
                lock (_idempotencyGate)
                {
                    _idempotency.Remove(key);
                }
            }
        }
    }

    private IDisposable? BeginRunScope(string runId) =>
        _logger.BeginScope(new Dictionary<string, object> { ["RunId"] = runId });

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Run {RunId} accepted: profile {Profile}, backend {Backend}, idempotent {Idempotent}")]
        public static partial void Accepted(ILogger logger, string runId, string profile, string backend, bool idempotent);

        [LoggerMessage(2, LogLevel.Information, "Run {RunId} completed: {Status} after {QueueMs} ms queued and {RunMs} ms running")]
        public static partial void Completed(ILogger logger, string runId, string status, long queueMs, long runMs);

        [LoggerMessage(3, LogLevel.Warning, "Queue full: {Running} running and {Queued} queued; refusing a run with 429")]
        public static partial void QueueFull(ILogger logger, int running, int queued);

        [LoggerMessage(4, LogLevel.Error, "Run {RunId} failed inside the service")]
        public static partial void Crashed(ILogger logger, string runId, Exception exception);

        [LoggerMessage(5, LogLevel.Warning, "Shutting down: waiting up to {GraceSeconds} s for {Count} running run(s)")]
        public static partial void Draining(ILogger logger, int count, long graceSeconds);
    }
}

/// <summary>The outcome of admitting a run: accepted (new or replayed under an idempotency key) or refused with a problem.</summary>
internal sealed record SubmitOutcome(RunEntry? Entry, bool IsReplay, ApiProblem? Problem)
{
    public static SubmitOutcome Accepted(RunEntry entry) => new(entry, false, null);

    public static SubmitOutcome Replayed(RunEntry entry) => new(entry, true, null);

    public static SubmitOutcome Refused(ApiProblem problem) => new(null, false, problem);
}

internal enum CancelOutcome
{
    Cancelled,
    Cancelling,
    NotFound,
    AlreadyCompleted,
}

internal static class RunStateNames
{
    public static string Of(RunState state) => state switch
    {
        RunState.Queued => "queued",
        RunState.Running => "running",
        _ => "completed",
    };
}
