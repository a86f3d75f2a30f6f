using System.Buffers.Text;
using Sandbox.Core.Artifacts;
using Sandbox.Docker.Artifacts;

namespace Sandbox.Docker.Execution;

/// <summary>
/// The wrapper's side of a run step's streams (see <see cref="OutputsCommand"/>): stdout split at the outputs marker, with
/// the tar after it read into artifacts, and stderr's end line (the program's status) taken off the program's stderr.
/// Once both streams are known whole, <see cref="Ended"/> completes with the status, ahead of the daemon's word.
/// </summary>
internal sealed class OutputsReader
{
    private readonly OutputsSplitter _splitter;
    private readonly OutputsSplitter _endSplitter;
    private readonly ArtifactGatherer _gatherer;
    private readonly TarArtifactReader _tar;
    private readonly TaskCompletionSource<long> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly byte[] _endLine = new byte[EndLineMax];
    private int _endFill;
    private (long Status, bool Tar)? _end;

    // "<status> <0|1>\n": a status is at most three digits; anything longer is not the wrapper's line.
    private const int EndLineMax = 16;

    public OutputsReader(ArtifactCapture capture)
    {
        _splitter = new OutputsSplitter(OutputsCommand.Marker(capture.Nonce));
        _endSplitter = new OutputsSplitter(OutputsCommand.EndMarker(capture.Nonce));
        _gatherer = new ArtifactGatherer(capture.Limits);
        _tar = new TarArtifactReader(_gatherer);
    }

    /// <summary>
    /// Completes with the program's exit status once the wrapper's end line has come on stderr and stdout is whole (its
    /// marker seen, and the tar ended if one followed). The wrapper writes that line only when no other process is left in
    /// the container, so nothing of the run can write after it; the caller still waits for the kernel to see the cgroup empty.
    /// </summary>
    public Task<long> Ended => _ended.Task;

    public void Feed(ReadOnlySpan<byte> chunk, ByteSink program)
    {
        _splitter.Feed(chunk, program, _tar.Feed);
        CheckEnded();
    }

    /// <summary>Stderr: the program's bytes pass on; the end line is kept back and read.</summary>
    public void FeedStderr(ReadOnlySpan<byte> chunk, ByteSink program)
    {
        _endSplitter.Feed(chunk, program, ReadEndLine);
        CheckEnded();
    }

    /// <summary>At the end of stdout: bytes held back as a possible marker are the program's.</summary>
    public void Flush(ByteSink program) => _splitter.Flush(program);

    /// <summary>At the end of stderr: bytes held back as a possible end line are the program's.</summary>
    public void FlushStderr(ByteSink program) => _endSplitter.Flush(program);

    /// <summary>The outcome with the artifacts that came whole; an unfinished file is dropped as incomplete.</summary>
    public static StepOutcome Complete(OutputsReader? reader, StepOutcome outcome)
    {
        if (reader is null || !reader._splitter.Found)
        {
            return outcome;
        }

        reader._tar.Complete();
        return outcome with
        {
            Artifacts = reader._gatherer.Artifacts.Count > 0 ? reader._gatherer.Artifacts : null,
            ArtifactsDropped = reader._gatherer.Dropped.Count > 0 ? reader._gatherer.Dropped : null,
        };
    }

    private void ReadEndLine(ReadOnlySpan<byte> bytes)
    {
        if (_end is not null || _endFill < 0)
        {
            return;
        }

        var newline = bytes.IndexOf((byte)'\n');
        var take = newline >= 0 ? newline : bytes.Length;
        if (_endFill + take > EndLineMax)
        {
            _endFill = -1; // not the wrapper's line: the run ends the way it did before the end line existed
            return;
        }

        bytes[..take].CopyTo(_endLine.AsSpan(_endFill));
        _endFill += take;
        if (newline < 0)
        {
            return;
        }

        var line = _endLine.AsSpan(0, _endFill);
        var space = line.IndexOf((byte)' ');
        if (space > 0 && line[(space + 1)..] is [(byte)'0' or (byte)'1'] flag
            && Utf8Parser.TryParse(line[..space], out long status, out var used) && used == space && status is >= 0 and <= 255)
        {
            _end = (status, flag[0] == (byte)'1');
        }
        else
        {
            _endFill = -1;
        }
    }

    private void CheckEnded()
    {
        if (_end is { } end && _splitter.Found && (!end.Tar || _tar.IsEnded))
        {
            _ended.TrySetResult(end.Status);
        }
    }
}
