namespace Sandbox.Docker.Artifacts;

/// <summary>Receives a run of bytes from <see cref="OutputsSplitter"/>.</summary>
internal delegate void ByteSink(ReadOnlySpan<byte> bytes);

/// <summary>
/// Splits the step's stdout at the outputs marker (<see cref="OutputsCommand"/>): bytes before it are the program's,
/// bytes after it the tar of <c>/tmp/outputs</c>. A chunk that ends with the start of the marker holds those few bytes
/// back until the next chunk says whether the marker goes on; at the end they are the program's.
/// </summary>
internal sealed class OutputsSplitter
{
    private readonly byte[] _marker;
    private int _matched;

    public OutputsSplitter(byte[] marker)
    {
        // The restart-free match below relies on the first byte occurring nowhere else in the marker.
        if (marker.Length == 0 || marker.AsSpan(1).Contains(marker[0]))
        {
            throw new ArgumentException("the marker's first byte must be unique in it", nameof(marker));
        }

        _marker = marker;
    }

    /// <summary>Whether the marker has been seen: everything since is the outputs stream.</summary>
    public bool Found { get; private set; }

    public void Feed(ReadOnlySpan<byte> chunk, ByteSink program, ByteSink outputs)
    {
        while (!chunk.IsEmpty)
        {
            if (Found)
            {
                outputs(chunk);
                return;
            }

            if (_matched == 0)
            {
                var start = chunk.IndexOf(_marker[0]);
                if (start < 0)
                {
                    program(chunk);
                    return;
                }

                if (start > 0)
                {
                    program(chunk[..start]);
                }

                chunk = chunk[start..];
            }

            // Match as much of the rest of the marker as this chunk holds.
            var want = _marker.AsSpan(_matched);
            var take = Math.Min(want.Length, chunk.Length);
            var common = chunk[..take].CommonPrefixLength(want[..take]);
            if (common == take)
            {
                _matched += take;
                chunk = chunk[take..];
                if (_matched == _marker.Length)
                {
                    Found = true;
                }

                continue;
            }

            // Not the marker after all: the bytes held (all equal to the marker's start) are the program's. The byte that
            // differed is looked at afresh: it may start a marker itself. None can start inside the held bytes, because
            // the marker's first byte occurs only at their start.
            program(_marker.AsSpan(0, _matched + common));
            _matched = 0;
            chunk = chunk[common..];
        }
    }

    /// <summary>At the end of the stream: bytes held back as a possible marker are the program's.</summary>
    public void Flush(ByteSink program)
    {
        if (!Found && _matched > 0)
        {
            program(_marker.AsSpan(0, _matched));
            _matched = 0;
        }
    }
}
