using System.Buffers;
using Sandbox.Core.Execution;
using Sandbox.Guard.Store;

namespace Sandbox.Server.Runs;

/// <summary>One running run's output waiting for the <see cref="OutputJournal"/>'s next flush, each stream within its cap.</summary>
internal sealed class RunOutputBuffer
{
    private readonly OutputJournal _journal;
    private readonly Lock _gate = new();
    private readonly long _stdoutCap;
    private readonly long _stderrCap;
    private ArrayBufferWriter<byte> _stdout = new();
    private ArrayBufferWriter<byte> _stderr = new();
    private long _stdoutKept;
    private long _stderrKept;
    private long _firstPendingAt;
    private bool _full;
    private bool _closed;

    internal RunOutputBuffer(OutputJournal journal, string runId, long stdoutCap, long stderrCap)
    {
        _journal = journal;
        RunId = runId;
        _stdoutCap = stdoutCap;
        _stderrCap = stderrCap;
    }

    public string RunId { get; }

    /// <summary>On the backend's reading thread: a copy into memory, and a wake-up at most twice per flush.</summary>
    public void Write(OutputStreamKind stream, ReadOnlySpan<byte> chunk)
    {
        var wake = false;
        lock (_gate)
        {
            var stderr = stream == OutputStreamKind.Stderr;
            var take = (int)Math.Min(chunk.Length, Math.Max(0, (stderr ? _stderrCap - _stderrKept : _stdoutCap - _stdoutKept)));
            if (_closed || take == 0)
            {
                return;
            }

            var pendingBefore = _stdout.WrittenCount + _stderr.WrittenCount;
            (stderr ? _stderr : _stdout).Write(chunk[..take]);
            if (stderr)
            {
                _stderrKept += take;
            }
            else
            {
                _stdoutKept += take;
            }

            if (pendingBefore == 0)
            {
                _firstPendingAt = _journal.Now();
                wake = true;
            }

            if (!_full && pendingBefore + take >= OutputJournal.FlushBytes)
            {
                _full = true;
                wake = true;
            }
        }

        if (wake)
        {
            _journal.Wake();
        }
    }

    /// <summary>Null when its pending output is due now (or there is none); else how long until it is.</summary>
    internal TimeSpan? Due(long now, TimeProvider time)
    {
        lock (_gate)
        {
            if (_stdout.WrittenCount + _stderr.WrittenCount == 0 || _full)
            {
                return null;
            }

            var age = time.GetElapsedTime(_firstPendingAt, now);
            return age >= OutputJournal.FlushAfter ? null : OutputJournal.FlushAfter - age;
        }
    }

    /// <summary>Hands what is pending to the writer (at most one chunk per stream) and starts over.</summary>
    internal void Take(List<RunOutputChunk> into)
    {
        lock (_gate)
        {
            if (_stdout.WrittenCount > 0)
            {
                into.Add(new RunOutputChunk(RunId, false, _stdout.WrittenMemory));
                _stdout = new ArrayBufferWriter<byte>();
            }

            if (_stderr.WrittenCount > 0)
            {
                into.Add(new RunOutputChunk(RunId, true, _stderr.WrittenMemory));
                _stderr = new ArrayBufferWriter<byte>();
            }

            _full = false;
        }
    }

    internal void Close()
    {
        lock (_gate)
        {
            _closed = true;
            _stdout = new ArrayBufferWriter<byte>();
            _stderr = new ArrayBufferWriter<byte>();
        }
    }
}
