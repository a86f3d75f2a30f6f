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
    /// <summary>
    /// Adjacent output of one stream is merged into one stored event up to this many characters: a program's every
    /// write() was one object kept for the retention time (100 000 one-byte writes, 100 000 objects).
    /// </summary>
    internal const int MaxEventChars = 16 * 1024;

    /// <summary>
    /// At most this many events are stored per run (output, state and the result). Past it, output joins the last event
    /// when it is of the same stream and is left to the final result otherwise, so a program alternating stdout and stderr
    /// byte by byte cannot make one event per write either.
    /// </summary>
    internal const int MaxEvents = 1024;

    /// <summary>Slots kept for the state and result events, which are never merged or dropped.</summary>
    private const int ReservedEvents = 3;

    private readonly Lock _gate = new();
    private readonly List<StoredEvent> _events = [];
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Decoder _stdoutDecoder = Encoding.UTF8.GetDecoder();
    private readonly Decoder _stderrDecoder = Encoding.UTF8.GetDecoder();
    private readonly int _maxStreamedBytes;
    private long _streamedBytes;

    /// <summary>The position after the last stored event: ids on the stream are positions, so they stay meaningful when events merge.</summary>
    private long _end;
    private int _finishing;

    // The plan whose slot and CPU reservation the ledger holds for this run; taken back exactly once (see TakeHeld).
    private RunPlan? _held;
    private RunOutputBuffer? _persisted;
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
    public bool HoldsSlot => Volatile.Read(ref _held) is not null;

    /// <summary>
    /// Set when its end could not be recorded in the store: the caller is told so (503 <c>store_unavailable</c>), never
    /// <c>ok</c> for a run a restart would find without a result.
    /// </summary>
    public bool RecordFailed { get; set; }

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

    /// <summary>The run this one replays (see <c>RunLifecycle.ReplayAsync</c>); null for an agent's own run.</summary>
    public string? ReplayOf { get; set; }

    /// <summary>Why the run was cancelled (the first reason given wins).</summary>
    public string? CancelReason { get; set; }

    /// <summary>Cancels the run: a queued run never starts, a running one is killed.</summary>
    public CancellationTokenSource Cancellation { get; } = new();

    /// <summary>Where its output is persisted as it streams while it runs (see <see cref="OutputJournal"/>); null before and after.</summary>
    public RunOutputBuffer? Persisted
    {
        get => Volatile.Read(ref _persisted);
        set => Volatile.Write(ref _persisted, value);
    }

    /// <summary>Completes when the run has its final result.</summary>
    public Task Completed => _completed.Task;

    /// <summary>Moves an approved run to the queue with the plan the guard released; false when it completed meanwhile (denied, revoked).</summary>
    public bool TryRelease(RunPlan plan)
    {
        lock (_gate)
        {
            // A run already ending (cancelled, its agent revoked) is not released: its end would not see the slot.
            if (State != RunState.PendingApproval || Volatile.Read(ref _finishing) != 0)
            {
                return false;
            }

            Plan = plan with { Output = this };
            State = RunState.Queued;
            AppendLocked("state", "queued");
        }

        return true;
    }

    /// <summary>Notes that the ledger now holds a slot and the CPU of <paramref name="plan"/> for this run.</summary>
    public void Hold(RunPlan plan) => Volatile.Write(ref _held, plan);

    /// <summary>The plan whose slot to give back, to exactly one caller (the run's end, or a release that lost a race); null for the others.</summary>
    public RunPlan? TakeHeld() => Interlocked.Exchange(ref _held, null);

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
            AppendLocked("state", "running");
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
            AppendLocked("result", null);
        }

        DropPayload();
        return true;
    }

    /// <summary>
    /// A completed run keeps what its views read (language, profile, limits, purpose, the approval's id and state), never
    /// what it ran: its code, stdin and files are in the store with its receipt and approval. Kept for ResultRetention they
    /// were counted against no cap, so one agent's stream of large requests piled up in the service's own memory (an
    /// 8 MiB body held about 50 MB: 103 runs of a 5.8 MB module took the service to 5.2 GB, measured), as artifacts did.
    /// </summary>
    private void DropPayload()
    {
        Plan = WithoutPayload(Plan);
        if (Approval is { } approval)
        {
            Approval = approval with { Code = "", Stdin = null, Files = [.. approval.Files.Select(f => f with { Content = "" })] };
        }

        // The ledger's reservation is given back by its limits alone; the plan it holds for that need not hold the code.
        if (Volatile.Read(ref _held) is { } held)
        {
            Interlocked.CompareExchange(ref _held, WithoutPayload(held), held);
        }

        static RunPlan WithoutPayload(RunPlan plan) => plan with { Request = plan.Request with { Code = "", Stdin = null, Files = null } };
    }

    /// <summary>
    /// Wakes whoever waits for <see cref="Completed"/>. Separate from <see cref="TryComplete"/> so the coordinator can
    /// finish its own bookkeeping (metrics, retention) first: a caller answered "completed" then sees it counted.
    /// </summary>
    public void Release() => _completed.TrySetResult();

    /// <summary>Output as the backend reads it: decoded incrementally so a character split across chunks survives.</summary>
    public void Write(OutputStreamKind stream, ReadOnlySpan<byte> chunk)
    {
        // Persisted apart from the event log's own bound: each stream up to its cap, as the result keeps it.
        Persisted?.Write(stream, chunk);
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
            var count = decoder.GetCharCount(chunk[..take], flush: false);
            Span<char> chars = count <= 256 ? stackalloc char[count] : new char[count];
            decoder.GetChars(chunk[..take], chars, flush: false);
            if (count > 0)
            {
                AppendOutputLocked(stream == OutputStreamKind.Stdout ? "stdout" : "stderr", chars);
            }
        }
    }

    /// <summary>True once the agent's retained output passed its cap and this run's output was dropped.</summary>
    public bool OutputDropped { get; private set; }

    /// <summary>Bytes this run holds in memory for its output: the result's bytes and text, and the output events (UTF-16).</summary>
    public long RetainedOutputBytes()
    {
        lock (_gate)
        {
            return OutputDropped ? 0 : RetainedLocked();
        }
    }

    /// <summary>Drops a completed run's output (result text and bytes, output events); returns the bytes freed.</summary>
    public long DropOutput()
    {
        lock (_gate)
        {
            if (OutputDropped || Result is not { } result)
            {
                return 0;
            }

            var freed = RetainedLocked();
            Result = result with { Stdout = "", StdoutBytes = ReadOnlyMemory<byte>.Empty, Stderr = "", StderrBytes = ReadOnlyMemory<byte>.Empty };
            // Positions are ids: the state and result events keep theirs, so a resumed reader still finds the result.
            _events.RemoveAll(e => e.Output is not null);
            OutputDropped = true;
            return freed;
        }
    }

    private long RetainedLocked() =>
        (Result is { } r ? r.StdoutBytes.Length + r.StderrBytes.Length + (2L * (r.Stdout.Length + r.Stderr.Length)) : 0)
        + (2L * _events.Sum(e => (long)(e.Output?.Length ?? 0)));

    /// <summary>How many events are stored for this run (bounded by <see cref="MaxEvents"/>).</summary>
    public int EventCount
    {
        get
        {
            lock (_gate)
            {
                return _events.Count;
            }
        }
    }

    /// <summary>
    /// What was stored from position <paramref name="from"/> on (0 is the start; after event id N comes N + 1), and a task
    /// that completes when more arrives. An output event that grew since a reader saw it comes back as the part it has not seen.
    /// Resumed at or past the end of a completed run, the result event comes back again: the final view always closes a stream.
    /// </summary>
    public (IReadOnlyList<RunEvent> Events, Task Changed) ReadEvents(long from)
    {
        lock (_gate)
        {
            var slice = new List<RunEvent>();
            foreach (var e in _events)
            {
                if (e.End <= from)
                {
                    continue;
                }

                var skip = (int)Math.Max(0, from - e.Start);
                slice.Add(new RunEvent(e.End - 1, e.Kind, e.Output is { } output ? output.ToString(skip, output.Length - skip) : e.Text));
            }

            if (slice.Count == 0 && State == RunState.Completed && _events.LastOrDefault(e => e.Kind == "result") is { } result)
            {
                slice.Add(new RunEvent(result.End - 1, result.Kind, result.Text));
            }

            return (slice, _changed.Task);
        }
    }

    private void AppendLocked(string kind, string? text)
    {
        _events.Add(new StoredEvent(kind, _end) { Text = text });
        _end++;
        SignalLocked();
    }

    /// <summary>Output joins the last event when it is of the same stream and has room (or no more events may be stored).</summary>
    private void AppendOutputLocked(string kind, ReadOnlySpan<char> chars)
    {
        var last = _events.Count > 0 ? _events[^1] : null;
        var full = _events.Count >= MaxEvents - ReservedEvents;
        if (last?.Output is { } output && last.Kind == kind && (full || output.Length + chars.Length <= MaxEventChars))
        {
            output.Append(chars);
        }
        else if (full)
        {
            // The other stream, past the bound: this part is in the final result only.
            return;
        }
        else
        {
            _events.Add(new StoredEvent(kind, _end) { Output = new StringBuilder(chars.Length).Append(chars) });
        }

        _end += chars.Length;
        SignalLocked();
    }

    private void SignalLocked()
    {
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }

    /// <summary>
    /// An event as kept: state and result take one position, output one per character, so an event that grows keeps its
    /// start and its end moves on; the id a reader gets is the position of the last thing it was sent.
    /// </summary>
    private sealed class StoredEvent(string kind, long start)
    {
        public string Kind { get; } = kind;

        public long Start { get; } = start;

        public string? Text { get; init; }

        public StringBuilder? Output { get; init; }

        public long End => Start + (Output?.Length ?? 1);
    }
}

/// <summary>
/// One event of a run's stream: <c>state</c>, <c>stdout</c>, <c>stderr</c> or <c>result</c> (its data is the final view).
/// <see cref="Sequence"/> is its id on the stream: the position of its last character (or of the event itself); ids only grow,
/// and <c>Last-Event-ID: N</c> resumes at position N + 1, in the middle of a merged event if need be.
/// </summary>
internal sealed record RunEvent(long Sequence, string Kind, string? Text);
