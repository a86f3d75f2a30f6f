using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Sandbox.Guard.Store;

namespace Sandbox.Server.Runs;

/// <summary>
/// Persists running runs' output as it streams (issue 11: "output as far as it was persisted"), so the end recovered
/// after a crash of the service, or of the service and the daemon, still carries what the program printed before it.
/// Off the hot path: the backend's reader only copies into the run's buffer (<see cref="RunOutputBuffer.Write"/>); one
/// writer flushes every run's buffer that is <see cref="FlushAfter"/> old or <see cref="FlushBytes"/> full, all in one
/// transaction. A run that ends before its first flush writes its output once, with its result; its end deletes what
/// was flushed (see <see cref="IGuardStore.AppendRunOutputAsync"/>), so one copy is kept at a time.
/// </summary>
internal sealed partial class OutputJournal : IAsyncDisposable
{
    /// <summary>How long output may wait in memory: what a crash can lose.</summary>
    public static readonly TimeSpan FlushAfter = TimeSpan.FromMilliseconds(250);

    /// <summary>A run's buffer is flushed at once when it holds this much.</summary>
    public const int FlushBytes = 64 * 1024;

    private readonly IGuardStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, RunOutputBuffer> _open = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _writer;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _flushes;

    public OutputJournal(IGuardStore store, TimeProvider time, ILogger logger)
    {
        _store = store;
        _time = time;
        _logger = logger;
        _writer = Task.Run(() => WriteLoopAsync(_stop.Token));
    }

    /// <summary>Transactions written so far (for tests and the benchmark's account of the cost).</summary>
    public long Flushes => Interlocked.Read(ref _flushes);

    /// <summary>Starts persisting a run's output, each stream within its cap (the run's output limits).</summary>
    public RunOutputBuffer Open(string runId, long stdoutCap, long stderrCap)
    {
        var buffer = new RunOutputBuffer(this, runId, stdoutCap, stderrCap);
        _open[runId] = buffer;
        return buffer;
    }

    /// <summary>The run ended: what waits is dropped (its result carries the output, and its end deletes what was flushed).</summary>
    public void Close(RunOutputBuffer? buffer)
    {
        if (buffer is not null && _open.TryRemove(new KeyValuePair<string, RunOutputBuffer>(buffer.RunId, buffer)))
        {
            buffer.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _writer.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    /// <summary>Called by a buffer when it gets its first pending byte, or fills up: the writer looks again now.</summary>
    internal void Wake() => Interlocked.Exchange(ref _wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    internal long Now() => _time.GetTimestamp();

    private async Task WriteLoopAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            var wake = Volatile.Read(ref _wake).Task;
            var now = _time.GetTimestamp();
            var due = new List<RunOutputChunk>();
            var wait = Timeout.InfiniteTimeSpan;
            foreach (var buffer in _open.Values)
            {
                if (buffer.Due(now, _time) is { } left)
                {
                    wait = wait == Timeout.InfiniteTimeSpan || left < wait ? left : wait;
                }
                else
                {
                    buffer.Take(due);
                }
            }

            if (due.Count > 0)
            {
                try
                {
                    await _store.AppendRunOutputAsync(due, stopping);
                    Interlocked.Increment(ref _flushes);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stopping.IsCancellationRequested)
                {
                    // Dropped, not retried: the run's result still carries all of it; only a crash now would lose this part.
                    Log.FlushFailed(_logger, due.Count, ex);
                }

                continue;
            }

            using var timer = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            var delay = wait == Timeout.InfiniteTimeSpan ? Task.Delay(Timeout.Infinite, timer.Token) : Task.Delay(wait, _time, timer.Token);
            await Task.WhenAny(wake, delay);
            await timer.CancelAsync();
            await delay.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(30, LogLevel.Warning, "Streamed output of {Count} chunk(s) could not be persisted; the runs' results still carry it, a crash now would lose it")]
        public static partial void FlushFailed(ILogger logger, int count, Exception exception);
    }
}
