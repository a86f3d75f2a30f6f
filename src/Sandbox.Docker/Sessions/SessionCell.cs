using Sandbox.Core.Execution;
using Sandbox.Core.Limits;
using Sandbox.Docker.Client;
using Sandbox.Docker.Execution;

namespace Sandbox.Docker.Sessions;

/// <summary>
/// One cell while it runs: its two markers, its output under the cell's own caps (streamed to the run's sink as it comes),
/// and the kill switch a cap, the deadline or the CPU meter fires. Fed by the kernel's single reader, so never concurrently.
/// </summary>
internal sealed class SessionCell
{
    private readonly CellMarker _stdoutMarker;
    private readonly CellMarker _stderrMarker;
    private readonly IRunOutputSink? _output;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly OutputsReader? _outputs;

    public SessionCell(string nonce, ResourceLimits limits, IRunOutputSink? output, KillSwitch kill, OutputsReader? outputs = null)
    {
        _outputs = outputs;
        _stdoutMarker = new CellMarker(nonce);
        _stderrMarker = new CellMarker(nonce);
        _output = output;
        Kill = kill;
        Stdout = new OutputCollector(limits.StdoutBytes);
        Stderr = new OutputCollector(limits.StderrBytes);
    }

    public OutputCollector Stdout { get; }

    public OutputCollector Stderr { get; }

    public KillSwitch Kill { get; }

    /// <summary>Completes once both markers were seen: the cell's code returned and its output is whole.</summary>
    public Task Done => _done.Task;

    /// <summary>The cell's exit code as the kernel reported it (0, 1 for an exception, or a <c>SystemExit</c> code).</summary>
    public int ExitCode => _stdoutMarker.Code;

    public void Deliver(StdStream stream, ReadOnlySpan<byte> chunk)
    {
        var isStderr = stream == StdStream.Stderr;
        var passed = (isStderr ? _stderrMarker : _stdoutMarker).Feed(chunk);
        if (isStderr || _outputs is null)
        {
            Keep(isStderr, passed);
        }
        else
        {
            // The cell's stdout, then (after the outputs marker) the tar of /tmp/outputs, which is not the cell's output.
            _outputs.Feed(passed, KeepStdout);
        }
        if (_stdoutMarker.Seen && _stderrMarker.Seen)
        {
            _done.TrySetResult();
        }
    }

    /// <summary>After the kernel died mid-cell: what the markers held back was output after all.</summary>
    public void Flush()
    {
        var rest = _stdoutMarker.Flush();
        if (_outputs is null)
        {
            Keep(false, rest);
        }
        else
        {
            _outputs.Feed(rest, KeepStdout);
        }

        Keep(true, _stderrMarker.Flush());
    }

    /// <summary>
    /// Ends the outputs split once the cell is over: what the splitter held back while it might have been the outputs
    /// marker is output after all when none followed. Called before the output is collected.
    /// </summary>
    public void EndOutputs() => _outputs?.Flush(KeepStdout);

    /// <summary>The cell's outcome with the files it handed out, whole (<see cref="OutputsReader.Complete"/>).</summary>
    public StepOutcome WithArtifacts(StepOutcome outcome) => OutputsReader.Complete(_outputs, outcome);

    private void KeepStdout(ReadOnlySpan<byte> bytes) => Keep(false, bytes);

    private void Keep(bool isStderr, ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        var collector = isStderr ? Stderr : Stdout;
        var before = collector.KeptBytes;
        if (collector.Append(bytes))
        {
            Kill.Fire(KillReason.Output);
        }

        if (_output is not null && collector.KeptBytes > before)
        {
            _output.Write(isStderr ? OutputStreamKind.Stderr : OutputStreamKind.Stdout, bytes[..(collector.KeptBytes - before)]);
        }
    }
}
