using System.Buffers.Binary;
using System.Text;
using Sandbox.Core.Artifacts;
using Sandbox.Core.Limits;
using Sandbox.Core.Runs;
using Sandbox.Core.Text;

namespace Sandbox.Wasm.Backend;

/// <summary>
/// The files a worker sends from the guest's <c>/tmp/outputs</c> (<see cref="Worker.FrameType.ArtifactBegin"/> and
/// <see cref="Worker.FrameType.ArtifactData"/>), checked again here as the worker is not trusted past the frame bounds: each
/// name, the caps, the declared size, the hash and the type are the service's own.
/// </summary>
internal sealed class WorkerArtifacts(ArtifactLimits limits)
{
    private readonly ArtifactGatherer _gatherer = new(limits);
    private string? _path;
    private byte[]? _buffer;
    private int _filled;
    private bool _skipping;

    /// <summary>A new file; false when the frame is malformed (the worker is then killed).</summary>
    public bool Begin(ReadOnlySpan<byte> payload)
    {
        Finish();
        if (payload.Length < 8 || BinaryPrimitives.ReadInt64LittleEndian(payload) is var size && size < 0)
        {
            return false;
        }

        var path = Encoding.UTF8.GetString(payload[8..]);
        if (_gatherer.Offer(path, ArtifactEntryKind.File, size))
        {
            _path = path;
            _buffer = new byte[checked((int)size)];
            _filled = 0;
        }
        else
        {
            // Past a cap here though the worker sent it: its bytes are read and dropped, the drop is recorded.
            _skipping = true;
        }

        return true;
    }

    /// <summary>The next bytes of the current file; false when there is no file or more bytes than it declared.</summary>
    public bool Data(ReadOnlySpan<byte> payload)
    {
        if (_skipping)
        {
            return true;
        }

        if (_buffer is null || payload.Length > _buffer.Length - _filled)
        {
            return false;
        }

        payload.CopyTo(_buffer.AsSpan(_filled));
        _filled += payload.Length;
        return true;
    }

    /// <summary>The files that came whole, and every drop: the service's, then the worker's (bounded, and shown escaped again).</summary>
    public (IReadOnlyList<RunArtifact>? Artifacts, IReadOnlyList<DroppedArtifact>? Dropped) Complete(IReadOnlyList<DroppedArtifact>? fromWorker)
    {
        Finish();
        var dropped = _gatherer.Dropped
            .Concat((fromWorker ?? []).Take(ArtifactGatherer.MaxDroppedListed + 1).Select(d => d with
            {
                Path = DisplayText.Escape(d.Path.Length > RelativePath.MaxLength ? d.Path[..RelativePath.MaxLength] : d.Path, keepNewlinesAndTabs: false),
                Detail = DisplayText.Escape(d.Detail.Length > 512 ? d.Detail[..512] : d.Detail, keepNewlinesAndTabs: false),
            }))
            .ToList();
        return (_gatherer.Artifacts.Count > 0 ? _gatherer.Artifacts : null, dropped.Count > 0 ? dropped : null);
    }

    private void Finish()
    {
        if (_buffer is not null && _path is not null)
        {
            if (_filled == _buffer.Length)
            {
                _gatherer.Add(_path, _buffer);
            }
            else
            {
                _gatherer.Incomplete(_path, _buffer.Length, $"only {_filled} of its {_buffer.Length} bytes arrived from the worker");
            }
        }

        _path = null;
        _buffer = null;
        _skipping = false;
    }
}
