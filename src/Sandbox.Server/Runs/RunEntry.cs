using System.Text;
using Sandbox.Core.Execution;
using Sandbox.Core.Runs;
using Sandbox.Guard.Approvals;
using Sandbox.Guard.Policy;

namespace Sandbox.Server.Runs;

/// <summary>
/// One accepted run inside the service: its plan, its state, the output events seen so far (for the
/// event stream) and, at the end, exactly one result. Thread-safe: the backend's reader, the worker
/// and any number of HTTP callers touch it at once.
/// </summary>
internal sealed class RunEntry : IRunOutputSink
{
    private readonly Lock _gate = new();
    private readonly List<RunEvent> _events = [];
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Decoder _stdoutDecoder = Encoding.UTF8.GetDecoder();
    private readonly Decoder _stderrDecoder = Encoding.UTF8.GetDecoder();
    private readonly int _maxStreamedBytes;
    private long _streamedBytes;
    private int _finishing;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public RunEntry(Principal principal, RunPlan plan, DateTimeOffset createdAt, long createdTimestamp, bool rawOutput, int maxStreamedBytes, Approval? approval = null)
    {
        Principal = principal;
        Plan = plan with { Output = this };
        Approval = approval;
        State = approval is null ? RunState.Queued : RunState.PendingApproval;
        CreatedAt = createdAt;
        CreatedTimestamp = createdTimestamp;
        RawOutput = rawOutput;
        _maxStreamedBytes = maxStreamedBytes;
    }

    public string Id => Plan.RunId;

    /// <summary>Who asked for it; only the same agent can see or cancel it.</summary>
    public Principal Principal { get; }

    public RunPlan Plan { get; private set; }

    /// <summary>Set when the run waited (or waits) for a human.</summary>
    public Approval? Approval { get; set; }

    /// <summary>Whether it holds one of its agent's concurrent slots (from admission or approval until its result).</summary>
    public bool HoldsSlot { get; set; }

    /// <summary>What remained of each budget when the run completed.</summary>
    public IReadOnlyList<Budget>? Budgets { get; set; }

    public DateTimeOffset CreatedAt { get; }

    public long CreatedTimestamp { get; }

    public bool RawOutput { get; }

    public RunState State { get; private set; }

    public DateTimeOffset? StartedAt { get; private set; }

    public DateTimeOffset? CompletedAt { get; private set; }

    public long? QueueMs { get; private set; }

    public long? RunMs { get; private set; }

    /// <summary>The final result; set once, together with <see cref="RunState.Completed"/>.</summary>
    public RunResult? Result { get; private set; }

    /// <summary>The key it was admitted under, if any, so eviction drops the key with the run.</summary>
    public string? IdempotencyKey { get; set; }

    /// <summary>Why the run was cancelled (the first reason given wins).</summary>
    public string? CancelReason { get; set; }

    /// <summary>Cancels the run: a queued run never starts, a running one is killed.</summary>
    public CancellationTokenSource Cancellation { get; } = new();

    /// <summary>Completes when the run has its final result.</summary>
    public Task Completed => _completed.Task;

    /// <summary>Moves an approved run to the queue with the plan the guard released; false when it completed meanwhile (denied, revoked).</summary>
    public bool TryRelease(RunPlan plan)
    {
        lock (_gate)
        {
            if (State != RunState.PendingApproval)
            {
                return false;
            }

            Plan = plan with { Output = this };
            State = RunState.Queued;
            AppendLocked(new RunEvent(_events.Count, "state", "queued"));
        }

        return true;
    }

    /// <summary>Claims the right to write the final result; exactly one caller gets true, so the result is audited exactly once.</summary>
    public bool TryBeginFinish() => Interlocked.Exchange(ref _finishing, 1) == 0;

    /// <summary>Moves a queued run to running; false when it was cancelled (or completed) meanwhile.</summary>
    public bool TryStart(DateTimeOffset now, long queueMs)
    {
        lock (_gate)
        {
            if (State != RunState.Queued || Cancellation.IsCancellationRequested)
            {
                return false;
            }

            State = RunState.Running;
            StartedAt = now;
            QueueMs = queueMs;
            AppendLocked(new RunEvent(_events.Count, "state", "running"));
        }

        return true;
    }

    /// <summary>Records the one final result; later calls are ignored and return false.</summary>
    public bool TryComplete(RunResult result, DateTimeOffset now, long? runMs)
    {
        lock (_gate)
        {
            if (State == RunState.Completed)
            {
                return false;
            }

            QueueMs ??= (long)(now - CreatedAt).TotalMilliseconds;
            Result = result;
            RunMs = runMs;
            CompletedAt = now;
            State = RunState.Completed;
            AppendLocked(new RunEvent(_events.Count, "result", null));
        }

        _completed.TrySetResult();
        return true;
    }

    /// <summary>Output as the backend reads it: decoded incrementally so a character split across chunks survives.</summary>
    public void Write(OutputStreamKind stream, ReadOnlySpan<byte> chunk)
    {
        lock (_gate)
        {
            // The event log is bounded like the output itself: past the budget the stream only shows the final result.
            if (_streamedBytes >= _maxStreamedBytes || State == RunState.Completed)
            {
                return;
            }

            var take = (int)Math.Min(chunk.Length, _maxStreamedBytes - _streamedBytes);
            _streamedBytes += take;
            var decoder = stream == OutputStreamKind.Stdout ? _stdoutDecoder : _stderrDecoder;
            var chars = new char[decoder.GetCharCount(chunk[..take], flush: false)];
            decoder.GetChars(chunk[..take], chars, flush: false);
            if (chars.Length > 0)
            {
                AppendLocked(new RunEvent(_events.Count, stream == OutputStreamKind.Stdout ? "stdout" : "stderr", new string(chars)));
            }
        }
    }

    /// <summary>Events from <paramref name="from"/> on, and a task that completes when more arrive.</summary>
    public (IReadOnlyList<RunEvent> Events, Task Changed) ReadEvents(int from)
    {
        lock (_gate)
        {
            var slice = from < _events.Count ? _events.GetRange(from, _events.Count - from) : [];
            return (slice, _changed.Task);
        }
    }

    private void AppendLocked(RunEvent e)
    {
        _events.Add(e);
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }
}

/// <summary>One event of a run's stream: <c>state</c>, <c>stdout</c>, <c>stderr</c> or <c>result</c> (its data is the final view).</summary>
internal sealed record RunEvent(int Sequence, string Kind, string? Text);
