using Sandbox.Core.Artifacts;
using Sandbox.Docker.Artifacts;

namespace Sandbox.Docker.Execution;

/// <summary>A run step's stdout split at the outputs marker, and the tar after it read into artifacts (see <see cref="OutputsCommand"/>).</summary>
internal sealed class OutputsReader
{
    private readonly OutputsSplitter _splitter;
    private readonly ArtifactGatherer _gatherer;
    private readonly TarArtifactReader _tar;

    public OutputsReader(ArtifactCapture capture)
    {
        _splitter = new OutputsSplitter(OutputsCommand.Marker(capture.Nonce));
        _gatherer = new ArtifactGatherer(capture.Limits);
        _tar = new TarArtifactReader(_gatherer);
    }

    public void Feed(ReadOnlySpan<byte> chunk, ByteSink program) => _splitter.Feed(chunk, program, _tar.Feed);

    public void Flush(ByteSink program) => _splitter.Flush(program);

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
}
