using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Sandbox.Guard.Store;
using Sandbox.Server.Output;

namespace Sandbox.Server.Runs;

/// <summary>
/// A run's event stream read from the store, for a node that does not hold the run in memory (issue 15, point 2): another
/// node runs it, or it ended before this process started. The same events as the owner's stream (<c>state</c>,
/// <c>stdout</c>, <c>stderr</c>, then <c>result</c> with the stored view), built from the row and the output the owner
/// persists while the run streams (<see cref="OutputJournal"/>), polled every <see cref="PollInterval"/> until the row
/// completes.
/// </summary>
/// <remarks>
/// <para>
/// Ids are positions, as on the owner (see <see cref="RunEvent"/>): the <c>running</c> state takes one, each character of
/// output one, the result one; <c>Last-Event-ID: N</c> resumes at N + 1. They count the sanitised text sent, which is the
/// owner's count whenever sanitising changes nothing (plain text). The owner persists each stream's output in order, but
/// stdout and stderr written within one flush interval (250 ms) are stored stream by stream, so their interleaving here is
/// per flush; and a run that waited for approval has its <c>queued</c> state event on the owner only.
/// </para>
/// <para>
/// Its end deletes the persisted output, keeping it in its view: what the follower had not read by then (the last
/// flushes, and what the owner never flushed) is sent from the view, after what was sent of each stream, once the view
/// is checked to begin with exactly that (a hash of what was sent, so memory stays bounded). When it does not (the view
/// cut the output down to its budget), nothing more is sent as output: the result event carries the view's output.
/// </para>
/// </remarks>
internal sealed class StoredRunEvents
{
    /// <summary>How often an open row and its new output are read: two indexed reads per follower per interval.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(150);

    /// <summary>Chunks read per query: at most this many flushes of output are in memory at once, whatever the run printed.</summary>
    internal const int PageSize = 16;

    private readonly IGuardStore _store;
    private readonly TimeProvider _time;
    private readonly string _runId;
    private readonly Func<StoredRun, RunView> _view;

    public StoredRunEvents(IGuardStore store, TimeProvider time, string runId, Func<StoredRun, RunView> view)
    {
        _store = store;
        _time = time;
        _runId = runId;
        _view = view;
    }

    /// <summary>
    /// The events from position <paramref name="from"/> on, as they are stored, ending with the result; ends without one when
    /// the row is deleted meanwhile (past its retention). Resumed at or past the end of a completed run, the result comes back
    /// again, as on the owner.
    /// </summary>
    public async IAsyncEnumerable<StoredRunEvent> ReadAsync(long from, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var stdout = new StreamCursor();
        using var stderr = new StreamCursor();
        long position = 0;
        long afterSeq = 0;
        var started = false;
        while (true)
        {
            if (await _store.FindRunAsync(_runId, cancellationToken) is not { } row)
            {
                yield break;
            }

            if (row.State == RunStateNames.Of(RunState.Completed))
            {
                var view = _view(row);
                if (!started && view.StartedAt is not null && Mark(ref position, from) is { } id)
                {
                    yield return new StoredRunEvent(id, "state", "running", null);
                }

                foreach (var (cursor, kind, text) in new[] { (stdout, "stdout", view.Result?.Stdout), (stderr, "stderr", view.Result?.Stderr) })
                {
                    if (cursor.Rest(text) is { Length: > 0 } rest && Slice(ref position, from, rest) is { } tail)
                    {
                        yield return new StoredRunEvent(position - 1, kind, tail, null);
                    }
                }

                yield return new StoredRunEvent(position, "result", null, view);
                yield break;
            }

            var page = row.State == RunStateNames.Of(RunState.Running)
                ? await _store.ReadRunOutputAfterAsync(_runId, afterSeq, PageSize, cancellationToken)
                : [];
            if (!started && row.State == RunStateNames.Of(RunState.Running))
            {
                started = true;
                if (Mark(ref position, from) is { } id)
                {
                    yield return new StoredRunEvent(id, "state", "running", null);
                }
            }

            foreach (var chunk in page)
            {
                afterSeq = chunk.Seq;
                var (cursor, kind) = chunk.IsStderr ? (stderr, "stderr") : (stdout, "stdout");
                if (cursor.Take(chunk.Bytes.Span) is { Length: > 0 } text && Slice(ref position, from, text) is { } part)
                {
                    yield return new StoredRunEvent(position - 1, kind, part, null);
                }
            }

            if (page.Count < PageSize)
            {
                await Task.Delay(PollInterval, _time, cancellationToken);
            }
        }
    }

    /// <summary>Takes one position (a state event); its id, or null when the reader resumes past it.</summary>
    private static long? Mark(ref long position, long from)
    {
        var id = position++;
        return id >= from ? id : null;
    }

    /// <summary>Takes the text's positions; what of it the reader has not seen (all, part or null), ending at <c>position - 1</c>.</summary>
    private static string? Slice(ref long position, long from, string text)
    {
        var start = position;
        position += text.Length;
        if (position <= from)
        {
            return null;
        }

        var skip = (int)Math.Max(0, from - start);
        return skip == 0 ? text : text[skip..];
    }

    /// <summary>One stream as sent: decoded across chunks, sanitised per chunk as the owner does per event, and counted and hashed.</summary>
    private sealed class StreamCursor : IDisposable
    {
        private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();
        private readonly IncrementalHash _sent = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private int _sentChars;

        /// <summary>The sanitised text of a chunk's bytes (a character split across chunks waits for its end).</summary>
        public string Take(ReadOnlySpan<byte> bytes)
        {
            var chars = new char[_decoder.GetCharCount(bytes, flush: false)];
            _decoder.GetChars(bytes, chars, flush: false);
            if (chars.Length == 0)
            {
                return "";
            }

            var utf8 = Encoding.UTF8.GetBytes(chars);
            var text = OutputSanitizer.Sanitize(utf8, utf8.Length, int.MaxValue);
            _sent.AppendData(MemoryMarshal.AsBytes(text.AsSpan()));
            _sentChars += text.Length;
            return text;
        }

        /// <summary>What the view's text holds past what was sent, when it begins with exactly what was sent; else nothing.</summary>
        public string Rest(string? view)
        {
            if (string.IsNullOrEmpty(view) || view.Length <= _sentChars)
            {
                return "";
            }

            var sent = _sent.GetHashAndReset();
            return SHA256.HashData(MemoryMarshal.AsBytes(view.AsSpan(0, _sentChars))).AsSpan().SequenceEqual(sent) ? view[_sentChars..] : "";
        }

        public void Dispose() => _sent.Dispose();
    }
}

/// <summary>One event of <see cref="StoredRunEvents"/>: output or state text (already sanitised), or the final view.</summary>
internal sealed record StoredRunEvent(long Sequence, string Kind, string? Text, RunView? Result);
