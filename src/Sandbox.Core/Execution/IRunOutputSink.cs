namespace Sandbox.Core.Execution;

/// <summary>Which of the program's output streams a chunk came from.</summary>
public enum OutputStreamKind
{
    Stdout,
    Stderr,
}

/// <summary>
/// Receives the program's output as it is produced, so long runs can show progress (the HTTP
/// service's event stream). Only bytes within the output caps arrive here; the result still carries everything kept.
/// </summary>
public interface IRunOutputSink
{
    /// <summary>Called on the backend's reading thread; implementations must be quick and must not throw.</summary>
    void Write(OutputStreamKind stream, ReadOnlySpan<byte> chunk);
}
